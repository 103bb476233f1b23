// Authentication and authorisation of the web service: users file, sessions, CSRF, API keys, throttling.
import { apiKeysFilePath, ApiKeyStore } from "./api_keys.ts";
import { FileAuthProvider } from "./auth_provider.ts";
import { authConfigFilePath, ConfiguredAuthProvider } from "./auth_config.ts";
import { dummyHash } from "./password_hash.ts";
import { type AuthPolicy, AuthService } from "./auth_middleware.ts";
import { DEFAULT_THROTTLE, LoginThrottle, type ThrottleLimits } from "./login_throttle.ts";
import { type SessionLimits, SessionStore } from "./sessions.ts";
import { FileUserStore, usersFilePath } from "./user_store.ts";

export * from "./roles.ts";
export * from "./password_hash.ts";
export * from "./user_store.ts";
export * from "./auth_provider.ts";
export * from "./group_roles.ts";
export * from "./command_auth_provider.ts";
export * from "./chain_auth_provider.ts";
export * from "./auth_config.ts";
export * from "./sessions.ts";
export * from "./csrf.ts";
export * from "./api_keys.ts";
export * from "./login_throttle.ts";
export * from "./auth_middleware.ts";
export * from "./webservercfg.ts";

export type FileAuthOptions = {
  /** The node's SAFE root: users in SAFE/web/conf/user.json, keys in SAFE/web/conf/apikey.json. */
  readonly safe: string;
  readonly sessions?: Partial<SessionLimits>;
  readonly throttle?: Partial<ThrottleLimits>;
  readonly trustedOrigins?: readonly string[];
  readonly policy?: AuthPolicy;
  readonly log?: (message: string) => void;
};

/**
 * The node service's auth, backed by the files under SAFE/web/conf: users in user.json, and whatever
 * auth.json adds (an authentication program in front of a directory).
 */
export function createFileAuthService(options: FileAuthOptions): AuthService {
  const log = options.log ?? ((m: string) => console.error(m));
  // Computed now, so the first login with an unknown user name is not slower than later ones.
  void dummyHash();
  return new AuthService({
    provider: new ConfiguredAuthProvider(
      authConfigFilePath(options.safe),
      new FileAuthProvider(new FileUserStore(usersFilePath(options.safe)), log),
      log,
    ),
    sessions: new SessionStore(options.sessions),
    throttle: new LoginThrottle({ ...DEFAULT_THROTTLE, ...options.throttle }),
    apiKeys: new ApiKeyStore(apiKeysFilePath(options.safe)),
    trustedOrigins: options.trustedOrigins,
    policy: options.policy,
    log,
  });
}
