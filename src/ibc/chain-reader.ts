/**
 * The watcher's reads over HTTP JSON-RPC (cosmjs Comet38Client on an HttpClient with a per-request timeout):
 * the chain's height, one block's results, a block's time, whether a channel exists, and a channel's packet
 * commitments together with the height they were read at (so the watcher can line them up with the events it
 * has processed).
 * Every failure comes out typed: ChainUnreachableError naming the URL, or ChainQueryError.
 */
import { QueryClient, setupIbcExtension } from '@cosmjs/stargate'
import { Comet38Client, HttpClient } from '@cosmjs/tendermint-rpc'
import { QueryPacketCommitmentsRequest, QueryPacketCommitmentsResponse } from 'cosmjs-types/ibc/core/channel/v1/query'
import type { BlockResultsLike } from './packet-events.js'
import { toChainError } from '../chain/rpc-errors.js'

export interface ChainStatus {
  height: number
  /** The lowest height whose block results the node still has (1 when it prunes nothing). */
  earliestHeight: number
}

export interface Commitments {
  /** The height the commitments were read at. */
  height: number
  sequences: number[]
}

export interface ChainReader {
  readonly url: string
  status (): Promise<ChainStatus>
  blockResults (height: number): Promise<BlockResultsLike>
  blockTimeMs (height: number): Promise<number>
  packetCommitments (port: string, channel: string): Promise<Commitments>
  /** Throws ChainQueryError when the chain does not know the channel (ibc-go answers NotFound). */
  channel (port: string, channel: string): Promise<{ state: number }>
  close (): void
}

const COMMITMENTS_PATH = '/ibc.core.channel.v1.Query/PacketCommitments'
const PAGE_LIMIT = 500n

export function createChainReader (url: string, timeoutMs: number): ChainReader {
  const comet = Comet38Client.create(new HttpClient(url, timeoutMs))
  const queries = QueryClient.withExtensions(comet, setupIbcExtension)

  const call = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run()
    } catch (err) {
      throw toChainError(err, url, what)
    }
  }

  return {
    url,
    status: async () => await call('status', async () => {
      const { syncInfo } = await comet.status()
      return { height: syncInfo.latestBlockHeight, earliestHeight: syncInfo.earliestBlockHeight ?? 1 }
    }),
    blockResults: async (height) => await call(`block_results at height ${height}`, async () => await comet.blockResults(height)),
    blockTimeMs: async (height) => await call(`block header at height ${height}`, async () => {
      const { blockMetas } = await comet.blockchain(height, height)
      const meta = blockMetas.find((m) => m.header.height === height)
      if (meta === undefined) throw new Error(`the chain returned no header for height ${height}`)
      return meta.header.time.getTime()
    }),
    packetCommitments: async (port, channel) => await call(`PacketCommitments(${port}, ${channel})`, async () => {
      const sequences: number[] = []
      let height: number | undefined
      let key: Uint8Array | undefined
      do {
        const request = QueryPacketCommitmentsRequest.encode(QueryPacketCommitmentsRequest.fromPartial({
          portId: port,
          channelId: channel,
          pagination: { key: key ?? new Uint8Array(), limit: PAGE_LIMIT }
        })).finish()
        // Later pages are read at the first page's height, so the whole list describes one state.
        const answer = await queries.queryAbci(COMMITMENTS_PATH, request, height)
        height ??= answer.height
        const page = QueryPacketCommitmentsResponse.decode(answer.value)
        for (const c of page.commitments) sequences.push(Number(c.sequence))
        key = page.pagination?.nextKey !== undefined && page.pagination.nextKey.length > 0 ? page.pagination.nextKey : undefined
      } while (key !== undefined)
      return { height, sequences }
    }),
    channel: async (port, channel) => await call(`Channel(${port}, ${channel})`, async () => {
      const answer = await queries.ibc.channel.channel(port, channel)
      if (answer.channel === undefined) throw new Error('the chain answered without a channel')
      return { state: answer.channel.state }
    }),
    close: () => comet.disconnect()
  }
}
