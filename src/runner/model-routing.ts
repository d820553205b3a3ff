import type { ColonyConfig } from '../daemon/config.js';
import { InvalidInputError } from '../lib/errors.js';

export interface RoutedModel {
  agent: string;
  model?: string;
}

/**
 * Map an OpenAI `model` name to an agent and model: `colony/<agent>` picks that agent with
 * its default model; a name an agent lists among its models (`haiku`) picks that agent
 * with that model; a bare agent name picks the agent; `colony` picks the default agent.
 */
export function routeModel(config: ColonyConfig, name: string): RoutedModel {
  if (name === 'colony') return { agent: config.default_agent };
  if (name.startsWith('colony/')) {
    const agent = name.slice('colony/'.length);
    if (config.agents[agent]) return { agent };
  } else {
    if (config.agents[name]) return { agent: name };
    const def = config.agents[config.default_agent];
    if (def?.models.includes(name)) return { agent: config.default_agent, model: name };
    for (const [agent, a] of Object.entries(config.agents)) if (a.models.includes(name)) return { agent, model: name };
  }
  throw new InvalidInputError(`unknown model '${name}'; see GET /v1/models for the configured ones`, {
    fields: ['model'],
  });
}

/** Every model name routeModel accepts, for GET /v1/models. */
export function listModels(config: ColonyConfig): { id: string; agent: string }[] {
  const out: { id: string; agent: string }[] = [];
  for (const [agent, a] of Object.entries(config.agents)) {
    out.push({ id: `colony/${agent}`, agent });
    for (const m of a.models) out.push({ id: m, agent });
  }
  return out;
}
