import { type Ref, computed, nextTick, ref } from 'vue'

/** A column's order, as Element Plus's table reports it (`sort-change`); a null order is the list's default. */
export interface TableSort {
  prop: string
  order: 'ascending' | 'descending' | null
}

export interface TableOptions<T> {
  /** Whether an item passes the screen's filters (it reads their refs, so the list follows them). */
  passes?: (item: T) => boolean
  /** The value each sortable column sorts by. */
  sortBy: Record<string, (item: T) => string | number | boolean>
  /** The order until the operator chooses one: newest first, say. */
  defaultSort: { prop: string; order: 'ascending' | 'descending' }
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' })
function compare(a: string | number | boolean, b: string | number | boolean): number {
  return typeof a === 'string' && typeof b === 'string' ? collator.compare(a, b) : Number(a) - Number(b)
}

/**
 * Search, filters, sorting and pagination over a list held in memory, in that order: the whole
 * list is sorted, not just the page shown, and only one page of rows is rendered, so a table of
 * 10,000 certificates or devices stays quick. `reveal` brings an item into view: onto its page,
 * clearing the search and filters that hide it.
 */
export function usePagedSearch<T extends { id: string }>(
  items: Ref<T[]>,
  matches: (item: T, needle: string) => boolean,
  options: TableOptions<T>,
) {
  const search = ref('')
  const page = ref(1)
  const pageSize = ref(20)
  const sort = ref<TableSort>({ ...options.defaultSort })
  const searched = computed(() => {
    const needle = search.value.trim().toLowerCase()
    return needle ? items.value.filter((item) => matches(item, needle)) : items.value
  })
  const filtered = computed(() => {
    const passing = options.passes ? searched.value.filter((item) => options.passes!(item)) : [...searched.value]
    const { prop, order } = sort.value.order ? sort.value : options.defaultSort
    const value = options.sortBy[prop] ?? options.sortBy[options.defaultSort.prop]
    const direction = order === 'descending' ? -1 : 1
    // Ties keep the list's own order (oldest first), so rows never jump between equal values.
    return passing
      .map((item, index) => ({ item, index }))
      .sort((a, b) => direction * compare(value(a.item), value(b.item)) || a.index - b.index)
      .map(({ item }) => item)
  })
  const rows = computed(() => filtered.value.slice((page.value - 1) * pageSize.value, page.value * pageSize.value))

  function sortChanged(change: TableSort): void {
    sort.value = change
    page.value = 1
  }

  /** Shows the item: `clearFilters` resets the screen's filters when they hide it; the page is the one it is on. */
  async function reveal(id: string, clearFilters: () => void): Promise<void> {
    if (!filtered.value.some((item) => item.id === id)) {
      search.value = ''
      clearFilters()
      await nextTick()
    }
    const index = filtered.value.findIndex((item) => item.id === id)
    if (index !== -1) page.value = Math.floor(index / pageSize.value) + 1
  }

  return { search, page, pageSize, sort, filtered, rows, sortChanged, reveal }
}
