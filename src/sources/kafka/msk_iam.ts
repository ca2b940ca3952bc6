/**
 * AWS MSK IAM authentication: OAUTHBEARER tokens from AWS's own signer package
 * (`aws-msk-iam-sasl-signer-js`), which signs a `kafka-cluster:Connect` request with
 * credentials from the AWS SDK's default chain (environment, profiles, SSO, web identity,
 * container and instance roles).
 *
 * @module
 */
import { generateAuthToken } from "aws-msk-iam-sasl-signer-js";

/** Tokens live 15 minutes; a fresh one is signed when less than this is left. */
const REFRESH_BEFORE_MS = 60_000;

/** A KafkaJS `oauthBearerProvider` that signs tokens for `region`, reusing a fresh one. */
export function mskIamTokenProvider(region: string): () => Promise<{ value: string }> {
  let cached: { value: string; expiresAt: number } | undefined;
  return async () => {
    if (cached === undefined || cached.expiresAt - Date.now() < REFRESH_BEFORE_MS) {
      const { token, expiryTime } = await generateAuthToken({ region });
      cached = { value: token, expiresAt: expiryTime };
    }
    return { value: cached.value };
  };
}
