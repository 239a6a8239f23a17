using System.Security.Cryptography;
using System.Text;

namespace Orchestrations.Functions.Api;

/// <summary>Secret comparison whose timing reveals neither the secret's length nor where a guess went wrong.</summary>
internal static class ConstantTime
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
}
