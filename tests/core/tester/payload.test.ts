// Payload encoding as the tester publishes it, and how the message log shows the bytes again.
import { describe, expect, it } from 'vitest'
import { encodePayload } from '../../../src-main/core/tester/messageFields'
import type { PayloadEncoding } from '../../../src-main/core/tester/types'
import { describePayload } from '../../../src-renderer/src/messageLog'

describe('payload encoding', () => {
  it('text is UTF-8, as typed', () => {
    expect(encodePayload('héllo ✓', 'text')).toEqual(Buffer.from('héllo ✓', 'utf8'))
    expect(encodePayload('', 'text')).toEqual(Buffer.alloc(0))
    expect(encodePayload('{ not json', 'text').toString()).toBe('{ not json')
  })

  it('JSON is checked and sent compact', () => {
    expect(encodePayload('{ "hello" :  "world", "n": [1, 2] }', 'json').toString()).toBe('{"hello":"world","n":[1,2]}')
    expect(encodePayload(' 42 ', 'json').toString()).toBe('42')
    expect(() => encodePayload('{ "hello": }', 'json')).toThrow('The payload is not valid JSON.')
    expect(() => encodePayload('', 'json')).toThrow('The payload is not valid JSON.')
  })

  it('hex is pairs of digits, any case, spaces and line breaks ignored', () => {
    expect(encodePayload('00ff', 'hex')).toEqual(Buffer.from([0, 255]))
    expect(encodePayload('DE ad\nBE\tef', 'hex')).toEqual(Buffer.from([0xde, 0xad, 0xbe, 0xef]))
    expect(encodePayload('', 'hex')).toEqual(Buffer.alloc(0))
    expect(() => encodePayload('0', 'hex')).toThrow('The payload is not hex (pairs of 0-9, a-f).')
    expect(() => encodePayload('0g', 'hex')).toThrow('The payload is not hex (pairs of 0-9, a-f).')
    expect(() => encodePayload('0x00', 'hex')).toThrow('The payload is not hex (pairs of 0-9, a-f).')
  })

  it('base64 is the standard alphabet, padding at the end only', () => {
    expect(encodePayload('AAEC', 'base64')).toEqual(Buffer.from([0, 1, 2]))
    expect(encodePayload('AAE=', 'base64')).toEqual(Buffer.from([0, 1]))
    expect(encodePayload('aGVs\nbG8=', 'base64').toString()).toBe('hello')
    expect(() => encodePayload('***', 'base64')).toThrow('The payload is not base64.')
    expect(() => encodePayload('AA=B', 'base64')).toThrow('The payload is not base64.')
    expect(() => encodePayload('_-8', 'base64')).toThrow('The payload is not base64.')
  })
})

describe('payload description in the message log', () => {
  const of = (bytes: Buffer | number[]) => describePayload(Buffer.from(bytes).toString('base64'))

  it('JSON is pretty-printed', () => {
    expect(of(Buffer.from('{"hello":"world","n":[1]}'))).toEqual({ kind: 'json', text: '{\n  "hello": "world",\n  "n": [\n    1\n  ]\n}' })
    expect(of(Buffer.from('42'))).toEqual({ kind: 'json', text: '42' })
  })

  it('UTF-8 text is shown as text, tabs and line breaks included', () => {
    expect(of(Buffer.from('héllo ✓'))).toEqual({ kind: 'text', text: 'héllo ✓' })
    expect(of(Buffer.from('a\tb\r\nc'))).toEqual({ kind: 'text', text: 'a\tb\r\nc' })
    expect(of([])).toEqual({ kind: 'text', text: '' })
  })

  it('bytes that are not UTF-8, or text with control characters, are shown as hex', () => {
    expect(of([0xff, 0xfe, 0x00])).toEqual({ kind: 'hex', text: 'ff fe 00' })
    expect(of([0x68, 0x69, 0x00, 0x01])).toEqual({ kind: 'hex', text: '68 69 00 01' })
    expect(of([0x1b, 0x5b, 0x41])).toEqual({ kind: 'hex', text: '1b 5b 41' })
  })

  it('what the tester publishes in each encoding is shown back the way it was meant', () => {
    const shown = (payload: string, encoding: PayloadEncoding) => describePayload(encodePayload(payload, encoding).toString('base64'))
    expect(shown('héllo', 'text')).toEqual({ kind: 'text', text: 'héllo' })
    expect(shown('{ "a" : 1 }', 'json')).toEqual({ kind: 'json', text: '{\n  "a": 1\n}' })
    expect(shown('de ad be ef', 'hex')).toEqual({ kind: 'hex', text: 'de ad be ef' })
    expect(shown(Buffer.from('hello').toString('base64'), 'base64')).toEqual({ kind: 'text', text: 'hello' })
  })
})
