// What the main side says, in the user's language. The core sends its sentences in English with
// the catalog's key and values (core/messages.ts); these word them from the key, and fall back to
// the English when the page does not know the key (a newer main side) or none was sent.
import type { ConnectionLogEntry, Diagnosis, Message } from '../../../src-main/contract/types'
import { MESSAGE_CONSTANTS } from '../../../src-main/contract/types'
import { ApiError } from '../apiError'
import { i18n } from './index'

/** A sentence of the core's catalog in the current language; `english` (or the key) when the page does not know it. */
export function messageText(message: Message | undefined, english = ''): string {
  if (message === undefined) return english
  const key = `core.${message.key}`
  if (!i18n.global.te(key, 'en')) return english || message.key
  return i18n.global.t(key, { ...MESSAGE_CONSTANTS, ...message.params })
}

/**
 * Why a call failed, in the current language: the core's sentence by its key; a front door's
 * refusal by its code; anything else (an error of the page itself) as its message.
 */
export function errorText(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.messageKey !== undefined) return messageText({ key: error.messageKey, params: error.params }, error.message)
    // A door's own English sentence is more precise than its code's: it is kept in English.
    const door = `door.${error.code}`
    if (i18n.global.locale.value !== 'en' && i18n.global.te(door)) return i18n.global.t(door)
    return error.message
  }
  return error instanceof Error ? error.message : String(error)
}

/** A tester diagnosis's sentences in the current language. */
export function diagnosisText(diagnosis: Diagnosis): { summary: string; nextStep: string; brokerReason?: string } {
  const { messages } = diagnosis
  const brokerReason = messages?.brokerReason ? messageText(messages.brokerReason, diagnosis.brokerReason) : diagnosis.brokerReason
  return {
    summary: messageText(messages?.summary, diagnosis.summary),
    nextStep: messageText(messages?.nextStep, diagnosis.nextStep),
    ...(brokerReason === undefined ? {} : { brokerReason }),
  }
}

/** Why the broker refused, dropped or denied a client (the connection log), in the current language. */
export function logReasonText(entry: Pick<ConnectionLogEntry, 'reason' | 'reasonMessage'>): string {
  return messageText(entry.reasonMessage, entry.reason ?? '')
}
