using System.Security.Cryptography;
using System.Text;

namespace Orchestrations.Workflows.Http;

/// <summary>
/// Secret comparison whose timing reveals neither the secret's length nor where a guess went wrong. Used by the
/// callback credential check here and by the hosts' API-key filter.
/// </summary>
public static class ConstantTime
{
    /// <summary>Compares SHA-256 digests in constant time, so strings of different lengths take the same time too.</summary>
    public static bool SecretEquals(string presented, string expected)
    {
        ArgumentNullException.ThrowIfNull(presented);
        ArgumentNullException.ThrowIfNull(expected);
        return CryptographicOperations.FixedTimeEquals(
            SHA256.HashData(Encoding.UTF8.GetBytes(presented)),
            SHA256.HashData(Encoding.UTF8.GetBytes(expected)));
    }

    /// <summary>True when <paramref name="presented"/> equals any of <paramref name="secrets"/>; every secret is compared (no early exit).</summary>
    public static bool MatchesAny(string presented, IEnumerable<string> secrets)
    {
        ArgumentNullException.ThrowIfNull(presented);
        ArgumentNullException.ThrowIfNull(secrets);
        bool match = false;
        foreach (string secret in secrets)
        {
            match |= SecretEquals(presented, secret);
        }

        return match;
    }
}
