using Microsoft.Extensions.Logging;

namespace Orchestrations.Workflows.Logging;

/// <summary>Log lines of the device CSV ingest (event ids 1400–1449). Never the file's content beyond counts and lines.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1400, Level = LogLevel.Information, Message = "Ingest of {BlobName} (version {Version}): {Rows} rows, {Valid} valid, {Rejected} rejected; job {JobId} {Outcome} in {ElapsedMs} ms")]
    public static partial void IngestJobStarted(this ILogger logger, string blobName, string version, int rows, int valid, int rejected, string jobId, string outcome, long elapsedMs);

    [LoggerMessage(EventId = 1401, Level = LogLevel.Warning, Message = "Ingest of {BlobName} (version {Version}) rejected as a whole: {Reason}")]
    public static partial void IngestRejected(this ILogger logger, string blobName, string version, string reason);

    [LoggerMessage(EventId = 1402, Level = LogLevel.Warning, Message = "Ingest of {BlobName} (version {Version}): malformed CSV at line {Line}")]
    public static partial void IngestMalformed(this ILogger logger, string blobName, string version, long line);

    [LoggerMessage(EventId = 1403, Level = LogLevel.Information, Message = "Ingest of {BlobName}: version {Version} is no longer the blob's (changed or deleted); the newer version is processed on its own")]
    public static partial void IngestSuperseded(this ILogger logger, string blobName, string version);
}
