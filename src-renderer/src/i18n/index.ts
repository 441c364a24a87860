import { createI18n } from 'vue-i18n'
import en from './en'
import zhCN from './zh-CN'

export type Locale = 'en' | 'zh-CN'

function initialLocale(): Locale {
  const saved = localStorage.getItem('certdesk-locale')
  if (saved === 'en' || saved === 'zh-CN') return saved
  return navigator.language.toLowerCase().startsWith('zh') ? 'zh-CN' : 'en'
}

export const i18n = createI18n({ legacy: false, locale: initialLocale(), fallbackLocale: 'en', messages: { en, 'zh-CN': zhCN } })

export function setLocale(locale: Locale): void {
  i18n.global.locale.value = locale
  localStorage.setItem('certdesk-locale', locale)
  document.documentElement.lang = locale
}
