import { createI18n } from 'vue-i18n'
import en from './en'
import errorsEn from './errors.en'
import errorsZhCN from './errors.zh-CN'
import zhCN from './zh-CN'

export type Locale = 'en' | 'zh-CN'

/**
 * Every text the screens show, per language: the screens' own (en.ts, zh-CN.ts) and what the main
 * side says (errors.*.ts: the core's catalog under `core`, the front doors' refusals under `door`).
 */
export const LOCALE_MESSAGES = { en: { ...en, ...errorsEn }, 'zh-CN': { ...zhCN, ...errorsZhCN } }

/** What this module uses of the browser: absent outside one (the unit tests load it in Node). */
const browser = globalThis as {
  localStorage?: { getItem(key: string): string | null; setItem(key: string, value: string): void }
  navigator?: { language: string }
  document?: { documentElement: { lang: string } }
}

function initialLocale(): Locale {
  const saved = browser.localStorage?.getItem('certdesk-locale')
  if (saved === 'en' || saved === 'zh-CN') return saved
  return browser.navigator?.language.toLowerCase().startsWith('zh') ? 'zh-CN' : 'en'
}

export const i18n = createI18n({ legacy: false, locale: initialLocale(), fallbackLocale: 'en', messages: LOCALE_MESSAGES })

// The page's language from the start, not only after a switch: the browser picks CJK fonts and
// line breaking by it.
if (browser.document) browser.document.documentElement.lang = i18n.global.locale.value

export function setLocale(locale: Locale): void {
  i18n.global.locale.value = locale
  browser.localStorage?.setItem('certdesk-locale', locale)
  if (browser.document) browser.document.documentElement.lang = locale
}
