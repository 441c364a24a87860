import type { FormItemRule } from 'element-plus'
import { computed, shallowRef } from 'vue'
import { ApiError } from '../apiError'
import { errorText } from '../i18n/translate'

/**
 * Errors shown beside a form's fields (Element Plus's form-item `error`), not only as a toast. A
 * refusal of the core goes to the field its catalog key is about — `routes` lists, per field, the
 * keys or key prefixes that belong there (`name.certificate` takes `name.certificateUnsafe`…) —
 * and anything else to the form as a whole (`general`). The error is kept as it was caught, so a
 * change of language words it again.
 */
export function useFormErrors<Field extends string>(routes: Record<Field, readonly string[]>) {
  const fields = Object.keys(routes) as Field[]
  const shown = shallowRef<{ field: Field | undefined; error: unknown }>()

  function fieldOf(error: unknown): Field | undefined {
    const key = error instanceof ApiError ? error.messageKey : undefined
    return key === undefined ? undefined : fields.find((field) => routes[field].some((prefix) => key.startsWith(prefix)))
  }

  /** Per field, the text to show beside it ('' for none). */
  const errors = computed(
    () =>
      Object.fromEntries(fields.map((field) => [field, shown.value?.field === field ? errorText(shown.value.error) : ''])) as Record<
        Field,
        string
      >,
  )
  /** What belongs to no one field, for an alert at the top of the form. */
  const general = computed(() => (shown.value && shown.value.field === undefined ? errorText(shown.value.error) : ''))

  return {
    errors,
    general,
    /** Shows a caught error where it belongs; `field` places it when the caller knows better. */
    show: (error: unknown, field?: Field) => (shown.value = { field: field ?? fieldOf(error), error }),
    clear: () => (shown.value = undefined),
    /** Clears the error beside `field` once the operator changes it. */
    clearField: (field: Field) => {
      if (shown.value?.field === field) shown.value = undefined
    },
  }
}

/**
 * A form's Enter key: submits from a text field, but not while an input method is composing (a
 * Chinese IME confirms its candidate with Enter), nor from a select or a text area.
 */
export function submitOnEnter(submit: () => unknown): (event: KeyboardEvent) => void {
  return (event) => {
    const target = event.target as HTMLElement | null
    if (event.isComposing) return
    if (!target || target.tagName === 'TEXTAREA' || target.closest('.el-select, .el-select-v2')) return
    event.preventDefault()
    void submit()
  }
}

/** A name field's rule: not blank, checked when the field loses focus (`message` is read then, in the current language). */
export function requiredName(message: () => string): FormItemRule {
  return {
    validator: (_rule, value: string, callback) => (value.trim() ? callback() : callback(new Error(message()))),
    trigger: 'blur',
  }
}
