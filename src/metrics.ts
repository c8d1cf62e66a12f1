import type { ApolloServerPlugin } from '@apollo/server';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Context } from './context.js';
import type { QueryEvent } from './data/store.js';

const OPERATION_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
/** Operation names are the client's to choose; past this many distinct ones, the rest count as "other". */
const MAX_OPERATION_LABELS = 200;

/** Prometheus metrics of one process: requests, latency and errors by operation, and store statement timings. */
export class Metrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'newsgraph_graphql_requests_total',
    help: 'GraphQL requests answered, by operation name and HTTP status',
    labelNames: ['operation', 'status'] as const,
    registers: [this.registry],
  });
  private readonly latency = new Histogram({
    name: 'newsgraph_graphql_request_duration_seconds',
    help: 'Time from receiving a GraphQL request to sending its response, by operation name',
    labelNames: ['operation'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [this.registry],
  });
  private readonly errors = new Counter({
    name: 'newsgraph_graphql_errors_total',
    help: 'Errors in GraphQL responses, by code',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  private readonly storeQueries = new Histogram({
    name: 'newsgraph_store_query_duration_seconds',
    help: 'Time the store took per SQL statement',
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
    registers: [this.registry],
  });
  private readonly cacheLookups = new Counter({
    name: 'newsgraph_response_cache_lookups_total',
    help: 'Public GraphQL requests looked up in the response cache: hit, miss_stored (answered by Apollo, then stored), miss (not storable), bypassed (the shared cache was not usable) or stale (the store failed; a kept answer was sent)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  private readonly operations = new Set<string>();

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'newsgraph_' });
  }

  /** For `openStore({ onQuery })`. */
  readonly observeQuery = (event: QueryEvent): void => {
    this.storeQueries.observe(event.durationMs / 1000);
  };

  private label(operationName: string | null | undefined): string {
    if (!operationName) return 'anonymous';
    if (!OPERATION_NAME.test(operationName)) return 'other';
    if (!this.operations.has(operationName)) {
      if (this.operations.size >= MAX_OPERATION_LABELS) return 'other';
      this.operations.add(operationName);
    }
    return operationName;
  }

  /** Reports the response cache's size with every scrape. */
  watchResponseCache(stats: () => { entries: number; bytes: number }): void {
    this.gauge(
      'newsgraph_response_cache_bytes',
      'Bytes the response cache holds (bodies, keys and tags, as it counts them against RESPONSE_CACHE_MB)',
      () => stats().bytes,
    );
    this.gauge('newsgraph_response_cache_entries', 'Answers the response cache holds', () => stats().entries);
  }

  /** Reports the section cache's size with every scrape. */
  watchSectionCache(stats: () => { entries: number; records: number }): void {
    this.gauge(
      'newsgraph_section_cache_records',
      'Records the section cache holds (sections, teasers and article summaries, as it counts them against SECTION_CACHE_RECORDS)',
      () => stats().records,
    );
    this.gauge(
      'newsgraph_section_cache_entries',
      'Lists the section cache holds (the section tree, teaser lists, newest-article lists)',
      () => stats().entries,
    );
  }

  /** Reports, with every scrape, how many log lines were dropped because standard output was not read fast enough. */
  watchLogOutput(dropped: () => number): void {
    new Counter({
      name: 'newsgraph_log_lines_dropped_total',
      help: 'Log lines dropped because standard output was not drained (its reader stalled or went away)',
      registers: [this.registry],
      collect() {
        // The destination keeps the count; a scrape copies it.
        this.reset();
        this.inc(dropped());
      },
    });
  }

  /** A gauge read when scraped. */
  private gauge(name: string, help: string, read: () => number): void {
    new Gauge({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.set(read());
      },
    });
  }

  /** A request answered from the response cache, which Apollo never sees. */
  cacheHit(operationName: string | null, seconds: number): void {
    const operation = this.label(operationName);
    this.cacheLookups.inc({ result: 'hit' });
    this.requests.inc({ operation, status: '200' });
    this.latency.observe({ operation }, seconds);
  }

  cacheMiss(stored: boolean): void {
    this.cacheLookups.inc({ result: stored ? 'miss_stored' : 'miss' });
  }

  /** A public request that went past the shared cache because it could not be trusted or reached. */
  cacheBypassed(): void {
    this.cacheLookups.inc({ result: 'bypassed' });
  }

  /** A public request the store could not answer, answered with a kept answer instead. */
  staleServed(): void {
    this.cacheLookups.inc({ result: 'stale' });
  }

  /** Reports, with every scrape, whether the shared cache is in use and how many purges wait to be delivered. */
  watchSharedCache(state: () => { usable: boolean; pendingPurges: number }): void {
    this.gauge(
      'newsgraph_shared_cache_usable',
      '1 while this instance answers from the shared (Redis) response cache, 0 while it goes past it',
      () => (state().usable ? 1 : 0),
    );
    this.gauge(
      'newsgraph_pending_purges',
      'Purges of the shared cache this instance knows are waiting to be delivered',
      () => state().pendingPurges,
    );
  }

  /** An Apollo plugin that records every request it sees. */
  plugin(): ApolloServerPlugin<Context> {
    return {
      requestDidStart: async () => {
        const started = process.hrtime.bigint();
        return {
          didEncounterErrors: async ({ errors }) => {
            for (const error of errors) this.errors.inc({ code: String(error.extensions?.code ?? 'INTERNAL_SERVER_ERROR') });
          },
          willSendResponse: async ({ request, response, operationName }) => {
            const operation = this.label(operationName ?? request.operationName);
            const status = String(response.http.status ?? 200);
            this.requests.inc({ operation, status });
            this.latency.observe({ operation }, Number(process.hrtime.bigint() - started) / 1e9);
          },
        };
      },
    };
  }
}
