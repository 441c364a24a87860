import { stoppedBrokerStatus } from '../../src-main/core/broker/endpoints'
import { DEFAULT_BROKER_SETTINGS } from '../../src-main/core/broker/settings'
import type { FrontDoor } from '../../src-main/contract/dispatch'

/** A front door with no window and no broker: what contract tests need around a real Workspace. */
export function headlessFrontDoor(): FrontDoor {
  return {
    saveFile: async () => ({ saved: false }),
    brokerStatus: () => stoppedBrokerStatus('No broker runs in this test.', DEFAULT_BROKER_SETTINGS),
    connectionLog: async () => [],
    emit: () => undefined,
  }
}
