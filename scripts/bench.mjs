// npm run bench: builds once, then runs every benchmark even when one misses its target (each
// judges its own and exits 1 on a miss), and ends with which missed — so one missed target does
// not hide the figures of the others. Exit 1 when any missed.
import { spawnSync } from 'node:child_process'

const STEPS = [
  ['build', 'npx', ['electron-vite', 'build', '-l', 'warn']],
  ['CLI start-up', 'npx', ['tsx', 'bench/cliStartup.bench.ts']],
  ['certificates', 'npx', ['tsx', 'bench/certificates.bench.ts']],
  ['message log', 'npx', ['tsx', 'bench/messageLog.bench.ts']],
  ['topic rules', 'npx', ['tsx', 'bench/topicRules.bench.ts']],
  ['broker vs mosquitto', 'npx', ['tsx', 'bench/broker.bench.ts']],
  ['registry notice', 'npx', ['tsx', 'bench/registryNotice.bench.ts']],
  ['registry screens', 'npx', ['tsx', 'bench/registryScreens.bench.ts']],
  ['tester stream', 'npx', ['tsx', 'bench/testerStream.bench.ts']],
  ['store scaling', 'npx', ['tsx', 'bench/store.bench.ts']],
  ['provisioning', 'npx', ['tsx', 'bench/provisioning.bench.ts']],
]

const missed = []
for (const [name, command, args] of STEPS) {
  console.log(`\n== ${name}`)
  const { status } = spawnSync(command, args, { stdio: 'inherit' })
  if (status !== 0) {
    if (name === 'build') process.exit(status ?? 1)
    missed.push(name)
  }
}
console.log(missed.length ? `\nMissed a target: ${missed.join(', ')}.` : '\nEvery benchmark met its targets.')
process.exitCode = missed.length ? 1 : 0
