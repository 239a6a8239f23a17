using Microsoft.DurableTask;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orchestrations.Durable;

// Configuration comes from the environment (AzureWebJobsStorage, extensions__durableTask__hubName, ...).
HostApplicationBuilder builder = Host.CreateApplicationBuilder(args);
builder.Logging.ClearProviders();
builder.Logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning);
builder.Services.AddDurableTaskAzureStorage(builder.Configuration, tasks => tasks
    .AddOrchestrator<ChainOfThree>()
    .AddActivity<Increment>());
using IHost host = builder.Build();
await host.StartAsync().ConfigureAwait(false);
Console.Out.WriteLine("READY");
await host.WaitForShutdownAsync().ConfigureAwait(false);

/// <summary>Three activities in a row; the output is the input plus three.</summary>
internal sealed class ChainOfThree : TaskOrchestrator<int, int>
{
    public override async Task<int> RunAsync(TaskOrchestrationContext context, int input)
    {
        int value = input;
        for (int step = 0; step < 3; step++)
        {
            value = await context.CallActivityAsync<int>(nameof(Increment), new IncrementInput(context.InstanceId, step, value));
        }

        return value;
    }
}

internal sealed record IncrementInput(string InstanceId, int Step, int Value);

/// <summary>Prints one line per execution so the test can count them across processes.</summary>
internal sealed class Increment : TaskActivity<IncrementInput, int>
{
    public override Task<int> RunAsync(TaskActivityContext context, IncrementInput input)
    {
        Console.Out.WriteLine($"RUN {input.InstanceId} {input.Step} pid={Environment.ProcessId}");
        return Task.FromResult(input.Value + 1);
    }
}
