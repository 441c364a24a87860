import { ElMessage, ElMessageBox } from 'element-plus'
import { useI18n } from 'vue-i18n'
import type { CertificateView } from '../../../src-main/contract/types'
import { useRegistry } from '../stores/registry'
import { errorText } from '../i18n/translate'

/** How many bound device IDs a confirmation names before it says "…". */
const NAMED_DEVICES = 5

/**
 * The availability switch of a certificate (list and detail page). Disabling a bound certificate
 * drops the devices connected with it, so that asks first, naming them; either way the result is
 * said, and the list follows what the core returned.
 */
export function useAvailability() {
  const { t } = useI18n()
  const registry = useRegistry()
  return async function setEnabled(certificate: CertificateView, enabled: boolean): Promise<void> {
    const bound = certificate.boundDeviceIds
    if (!enabled && bound.length > 0) {
      const devices = bound.slice(0, NAMED_DEVICES).join(', ') + (bound.length > NAMED_DEVICES ? ', …' : '')
      try {
        await ElMessageBox.confirm(
          t('certificates.disableConfirm', { name: certificate.name, count: bound.length, devices }),
          t('certificates.disableTitle'),
          { type: 'warning', confirmButtonText: t('certificates.disable'), cancelButtonText: t('common.cancel') },
        )
      } catch {
        return
      }
    }
    try {
      const updated = await registry.updateCertificate(certificate.id, { enabled })
      const { name } = updated
      ElMessage.success(
        updated.enabled
          ? t('certificates.enabledDone', { name })
          : bound.length > 0
            ? t('certificates.disabledBoundDone', { name, count: bound.length })
            : t('certificates.disabledDone', { name }),
      )
    } catch (error) {
      ElMessage.error(errorText(error))
    }
  }
}
