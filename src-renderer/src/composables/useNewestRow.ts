import { type Ref, nextTick, ref, watch } from 'vue'

/**
 * The item just created in a list: brought onto its page (`reveal`), highlighted (`rowClass`,
 * the `is-new` row) and scrolled to once the dialog that created it (`dialogOpen`) has closed,
 * so a new item appears where the operator can see it.
 */
export function useNewestRow<T extends { id: string }>(
  tableTestId: string,
  dialogOpen: Ref<boolean>,
  reveal: (id: string) => Promise<void>,
) {
  const newest = ref<string | null>(null)
  async function created(item: T): Promise<void> {
    newest.value = item.id
    await reveal(item.id)
  }
  watch(dialogOpen, async (open) => {
    if (open || !newest.value) return
    await nextTick()
    document.querySelector(`[data-test="${tableTestId}"] tr.is-new`)?.scrollIntoView({ block: 'center' })
  })
  const rowClass = ({ row }: { row: T }) => (row.id === newest.value ? 'is-new' : '')
  return { created, rowClass }
}
