import { type Ref, computed, ref } from 'vue'

/**
 * Search and pagination over a list held in memory: only one page of rows is rendered, so a
 * table of 10,000 certificates or devices stays quick.
 */
export function usePagedSearch<T>(items: Ref<T[]>, matches: (item: T, needle: string) => boolean) {
  const search = ref('')
  const page = ref(1)
  const pageSize = ref(20)
  const filtered = computed(() => {
    const needle = search.value.trim().toLowerCase()
    return needle ? items.value.filter((item) => matches(item, needle)) : items.value
  })
  const rows = computed(() => filtered.value.slice((page.value - 1) * pageSize.value, page.value * pageSize.value))
  return { search, page, pageSize, filtered, rows }
}
