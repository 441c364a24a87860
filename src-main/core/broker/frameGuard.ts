import { Duplex } from 'node:stream'
import { type Message, message, renderMessage } from '../messages'

/** Size limits, in bytes, of one whole MQTT packet (fixed header included). */
export interface FrameLimits {
  /** Until the broker accepts CONNECT: enough for a CONNECT with a will message. */
  beforeConnect: number
  afterConnect: number
}

/**
 * Sits between a client's TLS socket and aedes. It reads each MQTT fixed header (type byte,
 * then the 1 to 4 byte "remaining length") as the bytes pass and closes the connection as
 * soon as a packet declares more than the limit, so the MQTT parser never buffers an
 * oversized body. The bytes themselves are passed on unchanged and never held back here.
 */
export class MqttFrameGuard extends Duplex {
  /** The first packet is the CONNECT: it gets the small limit, every later one the configured one. */
  private firstPacket = true
  private refused = false
  private state: 'type' | 'length' | 'body' = 'type'
  /** Fixed header bytes read of the current packet: the type byte and the length bytes. */
  private headerBytes = 0
  private declaredLength = 0
  private bodyLeft = 0
  /** Whether the socket is corked until the end of this tick. */
  private corked = false

  constructor(
    readonly socket: Duplex,
    private readonly limits: FrameLimits,
    /** Told why the connection closes: in English, and as the catalog's sentence. */
    private readonly onRefused: (reason: string, reasonMessage: Message) => void,
  ) {
    super({ allowHalfOpen: false })
    socket.on('data', (chunk: Buffer) => this.pass(chunk))
    socket.on('end', () => this.push(null))
    socket.on('error', (error) => this.destroy(error))
    socket.on('close', () => this.destroy())
  }

  private pass(chunk: Buffer): void {
    if (this.refused || this.destroyed) return
    const problem = this.scan(chunk)
    if (problem !== undefined) {
      this.refused = true
      this.onRefused(renderMessage(problem), problem)
      this.socket.destroy()
      return
    }
    if (!this.push(chunk)) this.socket.pause()
  }

  /** Walks the fixed headers in `chunk`; returns why the connection must close, if it must. */
  private scan(chunk: Buffer): Message | undefined {
    let offset = 0
    while (offset < chunk.length) {
      if (this.state === 'body') {
        const taken = Math.min(this.bodyLeft, chunk.length - offset)
        this.bodyLeft -= taken
        offset += taken
        if (this.bodyLeft === 0) this.state = 'type'
        continue
      }
      const byte = chunk[offset++]
      if (this.state === 'type') {
        this.state = 'length'
        this.headerBytes = 1
        this.declaredLength = 0
        continue
      }
      // Remaining length: 7 bits a byte, least significant first, at most 4 bytes.
      this.declaredLength += (byte & 0x7f) * 128 ** (this.headerBytes - 1)
      this.headerBytes += 1
      if (byte & 0x80) {
        if (this.headerBytes - 1 === 4) return message('refusal.malformedLength')
        continue
      }
      const size = this.headerBytes + this.declaredLength
      // MQTT lets a client send packets right after CONNECT without waiting for CONNACK (3.1.4):
      // only the CONNECT itself is held to the small limit.
      const first = this.firstPacket
      this.firstPacket = false
      const limit = first ? Math.min(this.limits.beforeConnect, this.limits.afterConnect) : this.limits.afterConnect
      if (size > limit) return message(first ? 'refusal.connectTooLarge' : 'refusal.packetTooLarge', { size, limit })
      this.bodyLeft = this.declaredLength
      this.state = this.bodyLeft > 0 ? 'body' : 'type'
    }
    return undefined
  }

  override _read(): void {
    this.socket.resume()
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.forward(chunk, callback)
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    this.forward(Buffer.concat(chunks.map(({ chunk }) => chunk)), callback)
  }

  /**
   * Writes to the socket, finishing when the socket has room again (or has closed). Writes made
   * in the same tick (a burst of deliveries to this client) leave as one TLS record and one
   * system call instead of one each: the socket is corked until the tick ends.
   */
  private forward(chunk: Buffer, callback: () => void): void {
    if (!this.corked) {
      this.corked = true
      this.socket.cork()
      process.nextTick(() => {
        this.corked = false
        this.socket.uncork()
      })
    }
    if (this.socket.write(chunk)) {
      callback()
      return
    }
    const done = () => {
      this.socket.off('drain', done)
      this.socket.off('close', done)
      callback()
    }
    this.socket.on('drain', done)
    this.socket.on('close', done)
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.socket.end()
    callback()
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.socket.destroy()
    callback(error)
  }
}
