import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import { waitForPort } from './processes'
import { join } from 'node:path'
import { freePort, stopChild, temporaryFolder, whenFileEnds } from './tools'

/*
 * Debian's RabbitMQ (3.10, MQTT plugin) on loopback, started from an export as an operator would:
 * the export's rabbitmq.conf with each node's own MQTT ports, plus what a node on a shared machine
 * needs (its name, AMQP and distribution ports, data and log folders). The scripts in
 * /usr/lib/rabbitmq/bin run the node as the calling user (the /usr/sbin wrappers would switch to
 * the `rabbitmq` user and drop the environment), and a private epmd on its own port keeps these
 * nodes apart from anything else on the machine. Everything is stopped when the test file ends.
 */

const BIN = '/usr/lib/rabbitmq/bin'

export interface RabbitNode {
  name: string
  oneWayPort: number
  mutualPort: number
  /** rabbitmqctl against this node. */
  ctl(args: string[], timeoutMs?: number): Promise<string>
  /** The node's log so far, for failure messages. */
  log(): Promise<string>
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env, timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${file} ${args.join(' ')} failed: ${error.message}\n${stdout}\n${stderr}`))
      else resolve(stdout)
    })
  })
}

/** The export's rabbitmq.conf as an operator adapts it for one node: its MQTT ports on loopback, its own AMQP and distribution ports. */
function nodeConf(exported: string, ports: { oneWay: number; mutual: number; amqp: number; distribution: number }): string {
  const adapted = exported
    .replace(/^mqtt\.listeners\.ssl\.one_way = .*$/m, `mqtt.listeners.ssl.one_way = 127.0.0.1:${ports.oneWay}`)
    .replace(/^mqtt\.listeners\.ssl\.mutual = .*$/m, `mqtt.listeners.ssl.mutual = 127.0.0.1:${ports.mutual}`)
  return [
    adapted,
    '# This node, on a machine shared with others: loopback only.',
    `listeners.tcp.default = 127.0.0.1:${ports.amqp}`,
    `distribution.listener.port_range.min = ${ports.distribution}`,
    `distribution.listener.port_range.max = ${ports.distribution}`,
    'distribution.listener.interface = 127.0.0.1',
    '',
  ].join('\n')
}

/**
 * Starts `count` nodes from the export in `exportDir` (its advanced.config names files there),
 * waits until they have booted, and stops them (and the private epmd) when the test file ends.
 */
export async function startRabbitNodes(exportDir: string, count: number): Promise<RabbitNode[]> {
  const root = await temporaryFolder('certdesk-rabbitmq-')
  const home = join(root, 'home')
  await mkdir(home)
  // The nodes of one cluster share the cookie; a fresh one per run.
  await writeFile(join(home, '.erlang.cookie'), randomBytes(20).toString('hex').toUpperCase())
  await chmod(join(home, '.erlang.cookie'), 0o400)
  const envFile = join(root, 'rabbitmq-env.conf')
  await writeFile(envFile, '')
  const plugins = join(root, 'enabled_plugins')
  await writeFile(plugins, '[rabbitmq_mqtt].\n')

  const epmdPort = await freePort()
  const epmd = spawn('epmd', ['-port', String(epmdPort), '-address', '127.0.0.1'], { stdio: 'ignore' })
  whenFileEnds(() => stopChild(epmd))
  await waitForPort(epmdPort, { what: 'epmd', timeoutMs: 10_000, alive: () => epmd.exitCode === null })
  const shared: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: home,
    ERL_EPMD_PORT: String(epmdPort),
    ERL_EPMD_ADDRESS: '127.0.0.1',
    RABBITMQ_CONF_ENV_FILE: envFile,
    RABBITMQ_ENABLED_PLUGINS_FILE: plugins,
  }
  const exportedConf = await readFile(join(exportDir, 'rabbitmq.conf'), 'utf8')
  const tag = randomBytes(3).toString('hex')

  const nodes: { node: RabbitNode; child: ChildProcess; output: () => string; distributionPort: number }[] = []
  for (let index = 0; index < count; index++) {
    const letter = String.fromCharCode(97 + index)
    const name = `certdesk-${letter}-${tag}@localhost`
    const dir = join(root, letter)
    await mkdir(join(dir, 'mnesia'), { recursive: true })
    await mkdir(join(dir, 'log'), { recursive: true })
    const ports = { oneWay: await freePort(), mutual: await freePort(), amqp: await freePort(), distribution: await freePort() }
    const conf = join(dir, 'rabbitmq.conf')
    await writeFile(conf, nodeConf(exportedConf, ports))
    const env: NodeJS.ProcessEnv = {
      ...shared,
      RABBITMQ_NODENAME: name,
      RABBITMQ_CONFIG_FILE: conf,
      RABBITMQ_ADVANCED_CONFIG_FILE: join(exportDir, 'advanced.config'),
      RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
      RABBITMQ_LOG_BASE: join(dir, 'log'),
      RABBITMQ_DIST_PORT: String(ports.distribution),
    }
    let output = ''
    const child = spawn(join(BIN, 'rabbitmq-server'), [], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
    const ctl = (args: string[], timeoutMs = 30_000) => run(join(BIN, 'rabbitmqctl'), ['-n', name, ...args], env, timeoutMs)
    whenFileEnds(async () => {
      if (child.exitCode === null && child.signalCode === null) await ctl(['stop'], 20_000).catch(() => undefined)
      await stopChild(child)
    })
    const node: RabbitNode = {
      name,
      oneWayPort: ports.oneWay,
      mutualPort: ports.mutual,
      ctl,
      log: () => readFile(join(dir, 'log', `${name}.log`), 'utf8').catch(() => output),
    }
    nodes.push({ node, child, output: () => output, distributionPort: ports.distribution })
  }
  await Promise.all(
    nodes.map(async ({ node, child, output, distributionPort }) => {
      try {
        // rabbitmqctl gives up at once on a node epmd does not know yet: wait for its distribution port first.
        await waitForPort(distributionPort, { what: node.name, timeoutMs: 30_000, alive: () => child.exitCode === null })
        await node.ctl(['await_startup', '--timeout', '60'], 70_000)
        await waitForPort(node.mutualPort, { what: node.name, timeoutMs: 10_000, alive: () => child.exitCode === null })
      } catch (error) {
        throw new Error(
          `${node.name} did not start:\n${output()}\n${(await node.log()).slice(-4000)}\n${(error as Error).message.slice(0, 400)}`,
        )
      }
    }),
  )
  return nodes.map(({ node }) => node)
}

/** Joins every other node to the first (stop_app, join_cluster, start_app) and checks they run together. */
export async function formCluster(nodes: RabbitNode[]): Promise<string[]> {
  const [first, ...others] = nodes
  for (const node of others) {
    await node.ctl(['stop_app'])
    await node.ctl(['join_cluster', first.name], 60_000)
    await node.ctl(['start_app'], 60_000)
    await node.ctl(['await_startup', '--timeout', '60'], 70_000)
  }
  const status = JSON.parse(await first.ctl(['cluster_status', '--formatter', 'json'])) as { running_nodes: string[] }
  return status.running_nodes.sort()
}
