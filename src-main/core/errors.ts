/**
 * The one error type the core throws on purpose. Its message is a plain sentence meant for the
 * operator (CLI stderr, a dialog in the app); `code` lets a front door add its own hint.
 * Anything else that escapes the core is a bug and is reported as such.
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

export class CertdeskError extends Error {
  readonly code: CertdeskErrorCode

  /** `cause` keeps the underlying error (errno, parser error) for debugging; the message stays one sentence. */
  constructor(code: CertdeskErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'CertdeskError'
    this.code = code
  }
}

export function isCertdeskError(error: unknown): error is CertdeskError {
  return error instanceof CertdeskError
}

export function invalidInput(message: string): CertdeskError {
  return new CertdeskError('INVALID_INPUT', message)
}
