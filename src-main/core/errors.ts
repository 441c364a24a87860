import { type Message, type MessageKey, type MessageValues, renderMessage } from './messages'

/**
 * The one error type the core throws on purpose. Its message is a plain English sentence for the
 * operator (CLI stderr); `code` says what kind of failure it is. The core's own errors are
 * sentences of the catalog (core/messages.ts): `messageKey` names it and `params` carries the
 * values it names, so a screen can say it in the user's language. Anything else that escapes
 * the core is a bug and is reported as such.
 */
export type CertdeskErrorCode =
  | 'INVALID_INPUT'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'NOT_INITIALISED'
  | 'NOT_A_DATA_FOLDER'
  | 'CORRUPT_STORE'
  | 'NEWER_STORE'
  | 'PASSPHRASE_REQUIRED'
  | 'WRONG_PASSPHRASE'
  | 'INSECURE_KEY_FILE'
  | 'LOCKED'
  | 'IO'
  | 'INDEX_MISSING'
  | 'KEYCHAIN_REQUIRED'
  | 'CANCELLED'

/** Values a message names (a device ID, a limit), by name, for a translated sentence. */
export type ErrorParams = MessageValues

export class CertdeskError extends Error {
  readonly code: CertdeskErrorCode
  readonly params: ErrorParams | undefined
  /** The catalog's key for the sentence; undefined for a front door's own English sentence. */
  readonly messageKey: MessageKey | undefined

  /**
   * `message`: a sentence of the catalog (`message(key, params)`, rendered in English here), or a
   * front door's own English sentence with its `params`. `cause` keeps the underlying error
   * (errno, parser error) for debugging; the message stays one sentence.
   */
  constructor(code: CertdeskErrorCode, message: Message | string, options?: { cause?: unknown; params?: ErrorParams }) {
    super(typeof message === 'string' ? message : renderMessage(message), options)
    this.name = 'CertdeskError'
    this.code = code
    this.params = typeof message === 'string' ? options?.params : message.params
    this.messageKey = typeof message === 'string' ? undefined : message.key
  }
}

export function isCertdeskError(error: unknown): error is CertdeskError {
  return error instanceof CertdeskError
}

export function invalidInput(message: Message | string): CertdeskError {
  return new CertdeskError('INVALID_INPUT', message)
}
