using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Microsoft.AspNetCore.Http;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Moq;
using Orchestrations.Functions.Http;
using Orchestrations.Functions.Triggers;

namespace Orchestrations.Functions.Tests.Ingest;

/// <summary>The ingest's functions, created from the worker's container: each reaches its library handler.</summary>
public sealed class IngestFunctionsTests : IAsyncLifetime
{
    private readonly Mock<DurableTaskClient> _client = new(MockBehavior.Strict, "test");
    private IHost _host = null!;
    private AsyncServiceScope _scope;

    public Task InitializeAsync()
    {
        _host = FunctionsAppHost.Build();
        _scope = _host.Services.CreateAsyncScope();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _scope.DisposeAsync();
        _host.Dispose();
    }

    [Fact]
    public async Task DeviceCsvIngest_HandsTheTriggeringBlobToTheIngestHandler()
    {
        // A blob deleted before the function ran: the handler reads its properties, finds none, and starts nothing.
        Mock<BlobClient> blob = new();
        blob.SetupGet(b => b.Name).Returns("gone.csv");
        blob.Setup(b => b.GetPropertiesAsync(It.IsAny<BlobRequestConditions>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new RequestFailedException(404, "The specified blob does not exist.", "BlobNotFound", null));
        DeviceCsvIngestFunction function = ActivatorUtilities.CreateInstance<DeviceCsvIngestFunction>(_scope.ServiceProvider);

        await function.DeviceCsvIngest(blob.Object, _client.Object, CancellationToken.None);

        blob.Verify(b => b.GetPropertiesAsync(It.IsAny<BlobRequestConditions>(), It.IsAny<CancellationToken>()), Times.Once);
    }

    [Fact]
    public async Task GetDeviceIngest_EmptyName_IsTheHandlers404ProblemWithoutStorageOrEngine()
    {
        IngestFunctions function = ActivatorUtilities.CreateInstance<IngestFunctions>(_scope.ServiceProvider);
        DefaultHttpContext context = new() { RequestServices = _scope.ServiceProvider };

        IResult result = await function.GetDeviceIngest(context.Request, "", _client.Object, CancellationToken.None);

        Assert.Equal(StatusCodes.Status404NotFound, Assert.IsAssignableFrom<IStatusCodeHttpResult>(result).StatusCode);
    }
}
