using Azure.Core;
using Azure.Core.Pipeline;

namespace Orchestrations.Durable;

/// <summary>
/// An Azure SDK pipeline policy the engine adds to the Blob, Queue and Table clients of its task hub (register it as a
/// singleton before <see cref="DurableTaskAzureStorageServiceCollectionExtensions.AddDurableTaskAzureStorage"/>):
/// the benchmarks count storage requests with it, tests inject faults.
/// </summary>
public sealed record DurableStoragePipelinePolicy(HttpPipelinePolicy Policy, HttpPipelinePosition Position = HttpPipelinePosition.PerRetry);
