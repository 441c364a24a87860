import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { chmod, mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { waitForPort } from './processes'
import { freePort, stopChild, temporaryFolder, whenFileEnds } from './tools'

export interface MosquittoOptions {
  caPem: string
  certificatePem: string
  privateKeyPem: string
  requireCertificate: boolean
  /** mosquitto's `tls_version` (e.g. 'tlsv1.2'), to provoke a version mismatch. */
  tlsVersion?: string
  /** More lines for mosquitto.conf (e.g. 'max_packet_size 1000'). */
  extraConfig?: string[]
}

/**
 * Debian's mosquitto on a loopback port with a TLS listener, stopped when the test file ends.
 * mosquitto drops to its own user when started as root, so everything it reads is world-readable
 * (test material only).
 */
export async function startMosquitto(options: MosquittoOptions): Promise<{ port: number; stop(): void }> {
  const root = await temporaryFolder('certdesk-mosquitto-')
  const dir = join(root, 'conf')
  await mkdir(dir, { recursive: true })
  await chmod(root, 0o755)
  await chmod(dir, 0o755)
  const files = { cafile: options.caPem, certfile: options.certificatePem, keyfile: options.privateKeyPem }
  for (const [name, text] of Object.entries(files)) {
    await writeFile(join(dir, name), text)
    await chmod(join(dir, name), 0o644)
  }
  const port = await freePort()
  const config = join(dir, 'mosquitto.conf')
  await writeFile(
    config,
    [
      'per_listener_settings true',
      `listener ${port} 127.0.0.1`,
      ...Object.keys(files).map((name) => `${name} ${join(dir, name)}`),
      `require_certificate ${options.requireCertificate}`,
      ...(options.tlsVersion ? [`tls_version ${options.tlsVersion}`] : []),
      'allow_anonymous true',
      ...(options.extraConfig ?? []),
      'log_dest stderr',
      '',
    ].join('\n'),
  )
  await chmod(config, 0o644)
  let output = ''
  // Debian puts the broker in /usr/sbin, which is not on every user's PATH.
  const child = spawn(existsSync('/usr/sbin/mosquitto') ? '/usr/sbin/mosquitto' : 'mosquitto', ['-c', config])
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  whenFileEnds(() => stopChild(child))
  await waitForPort(port, { what: 'mosquitto', alive: () => child.exitCode === null, describe: () => output })
  return { port, stop: () => child.kill() }
}
