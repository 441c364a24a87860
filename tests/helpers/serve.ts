import { type ServeProcess, spawnServe } from './processes'
import { freePort, runCertdeskJson, stopChild, whenFileEnds } from './tools'

export interface ServeOptions {
  /** More options for `serve`: `--no-broker`, `--passphrase-env NAME`. */
  args?: string[]
  /** More environment for it (the variable `--passphrase-env` names, say). */
  env?: NodeJS.ProcessEnv
}

/** Runs a real `certdesk serve --json` on a data folder; stopped when the test file ends. */
export function startServe(dataDir: string, options: ServeOptions = {}): Promise<ServeProcess> {
  const { child, ready } = spawnServe(dataDir, options.args, options.env)
  whenFileEnds(() => stopChild(child))
  return ready
}

/** Points a data folder's broker at two free loopback ports (`certdesk broker settings`); its saved settings. */
export async function brokerOnFreePorts(dataDir: string): Promise<{ oneWayPort: number; mutualPort: number }> {
  const [oneWayPort, mutualPort] = [await freePort(), await freePort()]
  return runCertdeskJson([
    '--data',
    dataDir,
    'broker',
    'settings',
    '--one-way-port',
    String(oneWayPort),
    '--mutual-port',
    String(mutualPort),
  ])
}
