using System.Security.Cryptography;
using System.Text;

namespace Orchestrations.Workflows.Ingest;

/// <summary>The job id of one version of one uploaded file: the same version always gets the same id.</summary>
public static class IngestJobIds
{
    /// <summary>
    /// <c>ingest-</c> and 32 hex digits of SHA-256 over container, name and ETag: a valid job id for the jobs API
    /// (letters, digits, '-', at most 64), so <c>GET /api/provisioning/jobs/{id}</c> shows the job.
    /// </summary>
    public static string For(string container, string blobName, string etag)
    {
        ArgumentNullException.ThrowIfNull(container);
        ArgumentNullException.ThrowIfNull(blobName);
        ArgumentNullException.ThrowIfNull(etag);
        byte[] hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{container}\n{blobName}\n{etag.Trim('"')}"));
        return "ingest-" + Convert.ToHexStringLower(hash.AsSpan(0, 16));
    }
}
