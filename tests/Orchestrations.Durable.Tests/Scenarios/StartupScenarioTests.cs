using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Time.Testing;
using Orchestrations.Durable.Tests.Infrastructure;
using Orchestrations.Testing.Azurite;

namespace Orchestrations.Durable.Tests.Scenarios;

/// <summary>The worker's start when storage is not there yet: the host comes up, says so, and the worker keeps trying.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class StartupScenarioTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task Start_StorageRefusesAtFirst_HostStartsWithWorkerUnhealthyThenRetryStartsItAndItRunsWork()
    {
        RefusingPolicy storage = new() { Refuse = true };
        FakeTimeProvider time = new(DateTimeOffset.UtcNow);
        await using DurableTestHost host = await DurableTestHost.StartAsync(
            azurite,
            r => r.AddOrchestratorFunc<string, string>("Echo", (_, input) => Task.FromResult(input)),
            services: s => s
                .AddSingleton(new DurableStoragePipelinePolicy(storage, HttpPipelinePosition.PerCall))
                .AddSingleton<TimeProvider>(time));
        HealthCheckService health = host.Host.Services.GetRequiredService<HealthCheckService>();

        HealthReport before = await health.CheckHealthAsync();
        Assert.Equal(HealthStatus.Unhealthy, before.Entries["durable-worker"].Status);
        Assert.Contains("storage answered 403", before.Entries["durable-worker"].Description, StringComparison.Ordinal);

        storage.Refuse = false;
        time.Advance(TimeSpan.FromSeconds(2));
        await DurableTestHost.EventuallyAsync(
            async () => (await health.CheckHealthAsync()).Entries["durable-worker"].Status == HealthStatus.Healthy,
            "the worker to start on its first retry");

        string id = await host.Client.ScheduleNewOrchestrationInstanceAsync("Echo", "after the outage");
        await host.WaitForStatusAsync(id, OrchestrationRuntimeStatus.Completed);
        Assert.Equal("after the outage", (await host.Client.GetInstanceAsync(id, getInputsAndOutputs: true))!.ReadOutputAs<string>());
    }

    /// <summary>Answers every storage request with 403 while <see cref="Refuse"/> is set, as a closed firewall would.</summary>
    private sealed class RefusingPolicy : HttpPipelinePolicy
    {
        public volatile bool Refuse;

        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            ThrowIfRefusing();
            ProcessNext(message, pipeline);
        }

        public override ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            ThrowIfRefusing();
            return ProcessNextAsync(message, pipeline);
        }

        private void ThrowIfRefusing()
        {
            if (Refuse)
            {
                throw new RequestFailedException(403, "Storage refused the request (test).");
            }
        }
    }
}
