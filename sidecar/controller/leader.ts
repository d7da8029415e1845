/**
 * Who may write scale. Modelled on client-go's leaderelection: a small interface, the elector
 * tells whether this instance leads and who does. Only the leader applies decisions; every
 * instance takes reports and decides, so a new leader starts with warm history.
 */
export interface LeaderElector {
  /** This instance's identity (pod name in a cluster). */
  readonly identity: string;
  isLeader(): boolean;
  /** The current leader's identity, when known. */
  leader(): string | undefined;
}

/** One controller, one leader: itself. For the local stack and single-replica installs. */
export function singleInstance(identity: string): LeaderElector {
  return { identity, isLeader: () => true, leader: () => identity };
}
