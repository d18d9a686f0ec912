/**
 * The slice of rclnodejs the bridge uses, written in rclnodejs's own published types, so that the
 * adapter type-checks against them and a test can drive it through a fake of exactly this shape.
 * Only types are imported here: loading rclnodejs itself happens in load.ts, after checking that a
 * ROS 2 environment is present (importing it without one starts a native build).
 */
import type * as Rcl from 'rclnodejs';

/** The node methods the bridge calls. */
export type RclNode = Pick<
  Rcl.Node,
  'createSubscription' | 'createPublisher' | 'createTimer' | 'spin' | 'destroy' | 'name' | 'namespace' | 'now'
> &
  // Optional: the graph check of sensor topic types (a fake may leave it out).
  Partial<Pick<Rcl.Node, 'getTopicNamesAndTypes'>>;

/** The module-level API the bridge calls. */
export interface RclApi {
  init(context?: Rcl.Context, argv?: string[]): Promise<void>;
  createNode(
    nodeName: string,
    namespace?: string,
    context?: Rcl.Context,
    options?: Rcl.NodeOptions,
    args?: string[],
    useGlobalArguments?: boolean,
  ): RclNode;
  shutdown(context?: Rcl.Context): void;
  isShutdown(): boolean;
  /** rclnodejs shuts rcl down on SIGINT by itself; the bridge owns the signals (stop first). */
  removeSignalHandlers?(): void;
  QoS: typeof Rcl.QoS;
}

export type RclQos = Rcl.QoS;
export type RclPublisher = ReturnType<RclNode['createPublisher']>;
export type RclSubscription = ReturnType<RclNode['createSubscription']>;
export type RclTimer = ReturnType<RclNode['createTimer']>;
/** A message type name as createPublisher/createSubscription accept it. */
export type RclTypeClass = Parameters<RclNode['createPublisher']>[0];
export type RclOptions = NonNullable<Parameters<RclNode['createPublisher']>[2]>;

// The real module must satisfy RclApi: if rclnodejs changes a signature the bridge relies on,
// this line stops compiling.
type RclModule = typeof import('rclnodejs');
const _moduleFits: RclModule extends RclApi ? true : false = true;
void _moduleFits;
