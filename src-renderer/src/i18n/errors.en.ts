// What the main side says, in English: the core's catalog as it is (the CLI prints the same
// sentences), and the front doors' own refusals by code.
import { type ErrorCode, MESSAGES } from '../../../src-main/contract/types'

export default {
  core: MESSAGES,
  /** Refusals of a front door, which carry a code but no sentence of the catalog. */
  door: {
    MALFORMED_REQUEST: 'The request was malformed.',
    UNKNOWN_OPERATION: 'Certdesk does not know this operation; reload the page.',
    NOT_SIGNED_IN: 'This browser is not signed in; open the URL that certdesk serve printed.',
    FORBIDDEN: 'Certdesk refused this request.',
    UNREACHABLE: 'Certdesk is not answering; is "certdesk serve" still running?',
    INTERNAL: 'Something went wrong inside Certdesk.',
  } satisfies Partial<Record<ErrorCode, string>>,
}
