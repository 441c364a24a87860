// Kept apart from api.ts (which needs a window) so that anything may test for it.
import type { ErrorCode, ErrorParams, Failure, MessageKey } from '../../src-main/contract/types'

/**
 * A call that failed: the English sentence as `message`, with the code, the catalog's key when the
 * sentence is one of the core's, and the values it names. Screens show it with `errorText`
 * (i18n/translate.ts), which words it in the user's language.
 */
export class ApiError extends Error {
  readonly code: ErrorCode
  readonly params: ErrorParams | undefined
  readonly messageKey: MessageKey | undefined

  constructor(failed: Failure) {
    super(failed.error)
    this.name = 'ApiError'
    this.code = failed.code
    this.params = failed.params
    this.messageKey = failed.messageKey
  }
}
