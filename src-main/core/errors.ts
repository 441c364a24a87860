/**
 * The one error type the core throws on purpose. Its message is a plain English sentence for the
 * operator (CLI stderr); `code` says what kind of failure it is and `params` carries the values
 * the sentence names, so a screen can say it in the user's language. Anything else that escapes
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

/** Values a message names (a device ID, a limit), by name, for a translated sentence. */
export type ErrorParams = Record<string, string | number>

export class CertdeskError extends Error {
  readonly code: CertdeskErrorCode
  readonly params: ErrorParams | undefined

  /** `cause` keeps the underlying error (errno, parser error) for debugging; the message stays one sentence. */
  constructor(code: CertdeskErrorCode, message: string, options?: { cause?: unknown; params?: ErrorParams }) {
    super(message, options)
    this.name = 'CertdeskError'
    this.code = code
    this.params = options?.params
  }
}

export function isCertdeskError(error: unknown): error is CertdeskError {
  return error instanceof CertdeskError
}

export function invalidInput(message: string): CertdeskError {
  return new CertdeskError('INVALID_INPUT', message)
}
