// What the Docker engine itself says about an execution's containers: how many it created (its event log),
// and waiting for one to reach a state. Shared by the adapter suites that count containers per execution.
import type Dockerode from 'dockerode';
import { LABELS } from '../../src/adapters/docker/index';

/** How many containers the engine created for an execution since `sinceSec`, from docker's event log. */
export async function containerCreations(docker: Dockerode, executionId: string, sinceSec: number): Promise<number> {
  const until = Math.floor(Date.now() / 1000) + 1;
  await new Promise((r) => setTimeout(r, Math.max(0, until * 1000 - Date.now() + 50)));
  const stream = await docker.getEvents({
    since: sinceSec,
    until,
    filters: { type: ['container'], event: ['create'], label: [`${LABELS.executionId}=${executionId}`] },
  });
  let text = '';
  for await (const chunk of stream as AsyncIterable<Buffer>) text += chunk.toString('utf8');
  return text.split('\n').filter((l) => l.trim().length > 0).length;
}

/** The container's inspection once it is in `state`; throws after `ms`. */
export async function waitForContainerState(
  docker: Dockerode,
  name: string,
  state: string,
  ms: number,
): Promise<Dockerode.ContainerInspectInfo> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      const info = await docker.getContainer(name).inspect();
      if (info.State.Status === state) return info;
    } catch {
      // not there yet
    }
    if (Date.now() > until) throw new Error(`container ${name} never reached ${state}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
