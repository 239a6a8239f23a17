using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Moq;
using Orchestrations.Functions.Http;
using Orchestrations.Testing;
using Orchestrations.Workflows.Http;
using Orchestrations.Workflows.Health;
using Orchestrations.Workflows.Provisioning.JobDevices;
using Orchestrations.Workflows.Provisioning.Models;
using Orchestrations.Workflows.Provisioning.Orchestrations;

namespace Orchestrations.Functions.Tests.Http;

/// <summary>
/// Each HTTP function, created from the worker's container, with the request and durable client the worker would bind:
/// what it answers and which durable client call it makes show which library handler method it reached.
/// </summary>
public sealed class HttpFunctionsTests : IAsyncLifetime
{
    private const string RunningJob = "job-1";
    private readonly Mock<DurableTaskClient> _client = new("test") { CallBase = true };
    private readonly Mock<IJobDeviceStore> _jobDevices = new();
    private IHost _host = null!;
    private AsyncServiceScope _scope;

    public HttpFunctionsTests()
    {
        _client.Setup(c => c.GetInstancesAsync(It.IsAny<string>(), It.IsAny<bool>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string id, bool _, CancellationToken _) => id == RunningJob
                ? new OrchestrationMetadata(nameof(ProvisionDevices), id) { RuntimeStatus = OrchestrationRuntimeStatus.Running }
                : null);
        _client.Setup(c => c.ScheduleNewOrchestrationInstanceAsync(It.IsAny<TaskName>(), It.IsAny<object?>(), It.IsAny<StartOrchestrationOptions?>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((TaskName _, object? _, StartOrchestrationOptions? options, CancellationToken _) => options!.InstanceId!);
        _client.Setup(c => c.RaiseEventAsync(It.IsAny<string>(), It.IsAny<string>(), It.IsAny<object?>(), It.IsAny<CancellationToken>()))
            .Returns(Task.CompletedTask);
        _jobDevices.Setup(s => s.SaveAsync(It.IsAny<string>(), It.IsAny<string>(), It.IsAny<IReadOnlyList<JobDevice>>(), It.IsAny<int>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string id, string _, IReadOnlyList<JobDevice> devices, int size, CancellationToken _) => new JobDeviceSet("reports", id + "/devices/x", devices.Count, size, ["iccid", "imei"]));
        _client.Setup(c => c.GetAllInstancesAsync(It.IsAny<OrchestrationQuery?>()))
            .Returns(Pageable.Create<OrchestrationMetadata>((_, _, _) => Task.FromResult(new Page<OrchestrationMetadata>([], null))));
    }

    public Task InitializeAsync()
    {
        _host = FunctionsAppHost.Build(services: s => s.AddSingleton(_jobDevices.Object));
        _scope = _host.Services.CreateAsyncScope();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _scope.DisposeAsync();
        _host.Dispose();
    }

    private T Function<T>() => ActivatorUtilities.CreateInstance<T>(_scope.ServiceProvider);

    private static HttpRequest Request(string method, string? body = null)
    {
        DefaultHttpContext context = new();
        context.Request.Method = method;
        context.Request.Scheme = "https";
        context.Request.Host = new HostString("orchestrations.example");
        if (body is not null)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(body);
            context.Request.Body = new MemoryStream(bytes);
            context.Request.ContentLength = bytes.Length;
            context.Request.ContentType = "application/json";
        }

        return context.Request;
    }

    private static int? StatusOf(IResult result) => Assert.IsAssignableFrom<IStatusCodeHttpResult>(result).StatusCode;

    [Fact]
    public async Task StartProvisioningJob_ValidJob_SchedulesProvisionDevicesUnderTheJobId202()
    {
        string body = JsonSerializer.Serialize(new
        {
            jobId = "job-new",
            servicePlan = "m2m4G",
            mdnZipCode = "98801",
            devices = new[] { new { imei = TestIdentifiers.Imei("35693803", 1), iccid = TestIdentifiers.Iccid("891480000", 1) } },
        });

        HttpRequest request = Request(HttpMethods.Post, body);

        IResult result = await Function<ProvisioningJobsFunctions>().StartProvisioningJob(request, _client.Object, CancellationToken.None);

        Assert.Equal(StatusCodes.Status202Accepted, StatusOf(result));
        Assert.True(CallerKeys.IsKeyed(request.HttpContext)); // a Function-level route: the Functions host checked the key
        _client.Verify(c => c.ScheduleNewOrchestrationInstanceAsync(
            new TaskName(nameof(ProvisionDevices)), It.Is<ProvisioningJob>(j => j.Devices.Count == 1), It.Is<StartOrchestrationOptions?>(o => o!.InstanceId == "job-new"), It.IsAny<CancellationToken>()), Times.Once);
        _jobDevices.Verify(s => s.SaveAsync("job-new", It.IsAny<string>(), It.Is<IReadOnlyList<JobDevice>>(d => d.Count == 1), It.IsAny<int>(), It.IsAny<CancellationToken>()), Times.Once);
    }

    [Fact]
    public async Task ListProvisioningJobs_QueriesTheInstances200()
    {
        HttpRequest request = Request(HttpMethods.Get);

        IResult result = await Function<ProvisioningJobsFunctions>().ListProvisioningJobs(request, _client.Object, CancellationToken.None);

        Assert.Equal(StatusCodes.Status200OK, StatusOf(result));
        Assert.True(CallerKeys.IsKeyed(request.HttpContext));
        _client.Verify(c => c.GetAllInstancesAsync(It.IsAny<OrchestrationQuery?>()), Times.Once);
        _client.Verify(c => c.GetInstancesAsync(It.IsAny<string>(), It.IsAny<bool>(), It.IsAny<CancellationToken>()), Times.Never);
    }

    [Fact]
    public async Task GetProvisioningJob_RunningJob_ReadsItWithoutRaisingAnEvent200()
    {
        HttpRequest request = Request(HttpMethods.Get);

        IResult result = await Function<ProvisioningJobsFunctions>().GetProvisioningJob(request, RunningJob, _client.Object, CancellationToken.None);

        Assert.Equal(StatusCodes.Status200OK, StatusOf(result));
        Assert.True(CallerKeys.IsKeyed(request.HttpContext));
        _client.Verify(c => c.GetInstancesAsync(RunningJob, true, It.IsAny<CancellationToken>()), Times.Once);
        _client.Verify(c => c.RaiseEventAsync(It.IsAny<string>(), It.IsAny<string>(), It.IsAny<object?>(), It.IsAny<CancellationToken>()), Times.Never);
    }

    [Fact]
    public async Task CancelProvisioningJob_RunningJob_RaisesTheCancelEvent202()
    {
        HttpRequest request = Request(HttpMethods.Post);

        IResult result = await Function<ProvisioningJobsFunctions>().CancelProvisioningJob(request, RunningJob, _client.Object, CancellationToken.None);

        Assert.Equal(StatusCodes.Status202Accepted, StatusOf(result));
        Assert.True(CallerKeys.IsKeyed(request.HttpContext));
        _client.Verify(c => c.RaiseEventAsync(RunningJob, ProvisioningEvents.Cancel, It.IsAny<object?>(), It.IsAny<CancellationToken>()), Times.Once);
    }

    [Fact]
    public async Task ThingSpaceCallback_WrongCredentials_401WithoutTouchingTheDurableClient()
    {
        string body = $$"""{"username":"{{FunctionsAppHost.CallbackUsername}}","password":"wrong-password","requestId":"r-1","status":"Success"}""";

        HttpRequest request = Request(HttpMethods.Post, body);

        IResult result = await Function<ThingSpaceCallbackFunction>().ThingSpaceCallback(request, _client.Object, CancellationToken.None);

        Assert.Equal(StatusCodes.Status401Unauthorized, StatusOf(result));
        Assert.False(CallerKeys.IsKeyed(request.HttpContext)); // anonymous: ThingSpace authenticates in the body
        _client.Verify(c => c.RaiseEventAsync(It.IsAny<string>(), It.IsAny<string>(), It.IsAny<object?>(), It.IsAny<CancellationToken>()), Times.Never);
        _client.Verify(c => c.GetInstancesAsync(It.IsAny<string>(), It.IsAny<bool>(), It.IsAny<CancellationToken>()), Times.Never);
    }

    [Fact]
    public async Task Health_UnhealthyCheck_503NotCachedWithoutDetails()
    {
        Mock<HealthCheckService> checks = new();
        checks.Setup(h => h.CheckHealthAsync(It.IsAny<Func<HealthCheckRegistration, bool>?>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync(new HealthReport(
                new Dictionary<string, HealthReportEntry> { ["storage"] = new(HealthStatus.Unhealthy, "account devstoreaccount1 unreachable", TimeSpan.Zero, null, null) },
                TimeSpan.Zero));
        HttpRequest request = Request(HttpMethods.Get);

        IResult result = await ActivatorUtilities.CreateInstance<HealthFunction>(_scope.ServiceProvider, new HealthHandler(checks.Object))
            .Health(request, CancellationToken.None);

        Assert.Equal(StatusCodes.Status503ServiceUnavailable, StatusOf(result));
        Assert.Equal("no-store, no-cache", request.HttpContext.Response.Headers.CacheControl.ToString());
        string body = JsonSerializer.Serialize(Assert.IsAssignableFrom<IValueHttpResult>(result).Value);
        Assert.Contains("\"storage\"", body, StringComparison.Ordinal);
        Assert.DoesNotContain("unreachable", body, StringComparison.Ordinal); // the anonymous view: names and states only
    }
}
