import type { Logger } from '../lib/log.js';
import type { ColonyConfig } from '../daemon/config.js';
import type { Runner } from '../runner/runner.js';
import type { LandService } from '../land/index.js';
import type { ToolDef } from '../mcp/tool.js';
import type { CoordService } from '../coord/service.js';
import type { MemoryService } from '../memory/service.js';
import type { SwarmService } from '../swarm/index.js';

/** What the HTTP adapter needs from the daemon; domain objects, no transport. */
export interface AppDeps {
  config: ColonyConfig;
  token: string;
  version: string;
  logger: Logger;
  runner: Runner;
  land: LandService;
  coord: CoordService;
  memory: MemoryService;
  swarms: SwarmService;
  /** Every MCP tool, by name; the JSON routes and /mcp call these. */
  tools: ReadonlyMap<string, ToolDef>;
  isShuttingDown: () => boolean;
}
