/**
 * The delay shim (the kernel has no netem): a TCP relay that runs in the hub
 * namespace and carries every connection between two members (their DNAT
 * rules send it here, see `netns.ts`). It holds each chunk for
 * delay ± jitter before passing it on, per direction and in order, so the
 * byte stream stays intact while its timing varies. Started by the
 * controller over IPC; `{ type: 'delay', ms, jitter, members? }` changes the
 * delay (for connections touching `members`, or all), `{ type: 'stop' }` ends it.
 */

import { connect, createServer } from 'node:net'
import { MAX_MEMBERS, MEMBER_PORT, RELAY_ADDRESS, RELAY_BASE_PORT, memberAddress, relaySourceAddress } from './netns.ts'
import type { Socket } from 'node:net'

export type RelayCommand =
  | { type: 'delay', ms: number, jitter: number, members?: number[] }
  | { type: 'stop' }

export type RelayReport = { type: 'ready' } | { type: 'ok' } | { type: 'error', error: string }

let delay: { ms: number, jitter: number, members?: number[] } = { ms: 0, jitter: 0 }
const sockets = new Set<Socket>()

function send (message: RelayReport): void {
  if (process.connected) {
    process.send?.(message)
  }
}

function delayFor (from: number, to: number): number {
  if (delay.ms === 0 && delay.jitter === 0) {
    return 0
  }
  if (delay.members !== undefined && !delay.members.includes(from) && !delay.members.includes(to)) {
    return 0
  }
  return Math.max(0, delay.ms + (Math.random() * 2 - 1) * delay.jitter)
}

/** Copies `source` to `target`, each chunk held for the current delay, in order. */
function pipeDelayed (source: Socket, target: Socket, from: number, to: number): void {
  const queue: Array<{ due: number, chunk: Buffer | null }> = []
  let timer: NodeJS.Timeout | undefined
  let lastDue = 0

  const drain = (): void => {
    timer = undefined
    const now = performance.now()
    while (queue.length > 0 && queue[0].due <= now) {
      const { chunk } = queue.shift() ?? { chunk: null }
      if (chunk === null) {
        target.end()
      } else if (!target.destroyed) {
        target.write(chunk)
      }
    }
    if (queue.length > 0) {
      timer = setTimeout(drain, Math.max(1, queue[0].due - now))
    }
  }
  const push = (chunk: Buffer | null): void => {
    const due = Math.max(performance.now() + delayFor(from, to), lastDue)
    lastDue = due
    queue.push({ due, chunk })
    if (timer === undefined) {
      timer = setTimeout(drain, Math.max(0, due - performance.now()))
    }
  }
  source.on('data', (chunk: Buffer) => { push(chunk) })
  source.on('end', () => { push(null) })
  source.on('close', () => {
    if (timer !== undefined && queue.length === 0) {
      clearTimeout(timer)
    }
  })
}

function memberOf (address: string | undefined): number {
  const match = /^(?:::ffff:)?10\.99\.0\.(\d+)$/.exec(address ?? '')
  return match === null ? -1 : Number(match[1]) - 1
}

async function listen (to: number): Promise<void> {
  const server = createServer({ noDelay: true, allowHalfOpen: true }, (inbound) => {
    const from = memberOf(inbound.remoteAddress)
    if (from < 0) {
      inbound.destroy()
      return
    }
    const outbound = connect({ host: memberAddress(to), port: MEMBER_PORT, localAddress: relaySourceAddress(from), noDelay: true, allowHalfOpen: true })
    sockets.add(inbound)
    sockets.add(outbound)
    const close = (): void => {
      inbound.destroy()
      outbound.destroy()
      sockets.delete(inbound)
      sockets.delete(outbound)
    }
    inbound.on('error', close)
    outbound.on('error', close)
    inbound.on('close', () => { if (outbound.writableEnded || outbound.destroyed) { close() } })
    outbound.on('close', () => { if (inbound.writableEnded || inbound.destroyed) { close() } })
    pipeDelayed(inbound, outbound, from, to)
    pipeDelayed(outbound, inbound, to, from)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(RELAY_BASE_PORT + to, RELAY_ADDRESS, resolve)
  })
}

process.on('disconnect', () => { process.exit(0) })
process.on('message', (message: RelayCommand) => {
  if (message.type === 'delay') {
    delay = { ms: message.ms, jitter: message.jitter, members: message.members }
    send({ type: 'ok' })
  } else if (message.type === 'stop') {
    for (const socket of sockets) {
      socket.destroy()
    }
    process.exit(0)
  }
})

try {
  for (let to = 0; to < MAX_MEMBERS; to++) {
    await listen(to)
  }
  send({ type: 'ready' })
} catch (err: any) {
  send({ type: 'error', error: String(err.message) })
  process.exit(1)
}
