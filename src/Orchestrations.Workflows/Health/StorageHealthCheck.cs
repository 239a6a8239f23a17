using Azure;
using Azure.Data.Tables;
using Azure.Data.Tables.Models;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Orchestrations.Workflows.Health;

/// <summary>Healthy when the storage account answers a one-row table listing within the check's timeout.</summary>
internal sealed class StorageHealthCheck(TableServiceClient tables) : IHealthCheck
{
    public const string Name = "storage";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await foreach (Page<TableItem> page in tables.QueryAsync(maxPerPage: 1, cancellationToken: cancellationToken).AsPages().ConfigureAwait(false))
            {
                break;
            }

            return HealthCheckResult.Healthy($"Table service {tables.Uri.GetLeftPart(UriPartial.Authority)} answered.");
        }
        catch (RequestFailedException ex)
        {
            return HealthCheckResult.Unhealthy($"Table service answered {ex.Status} ({ex.ErrorCode}).");
        }
        catch (Exception ex) when (ex is HttpRequestException or AggregateException or TimeoutException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"Table service {tables.Uri.GetLeftPart(UriPartial.Authority)} is unreachable: {ex.GetType().Name}.");
        }
    }
}
