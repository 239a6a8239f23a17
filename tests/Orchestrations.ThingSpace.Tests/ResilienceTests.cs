using System.Net;
using Orchestrations.ThingSpace.Models;

namespace Orchestrations.ThingSpace.Tests;

/// <summary>Per-operation retries, Retry-After, handler order and the circuit breaker.</summary>
public sealed class ResilienceTests
{
    // A deadline, not a wait: a wrongly retried call would otherwise wait forever on the fake clock.
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    private static readonly AccountDeviceListRequest List = new() { AccountName = "0000123456-00001" };

    private static HttpResponseMessage TooManyRequests(int retryAfterSeconds)
    {
        HttpResponseMessage response = StubThingSpace.Json(
            HttpStatusCode.TooManyRequests,
            """{"errorCode":"UnifiedWebService.REQUEST_FAILED.TooManyRequests","errorMessage":"slow down"}""");
        response.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.FromSeconds(retryAfterSeconds));
        return response;
    }

    [Fact]
    public async Task Read_429WithRetryAfter_WaitsThatLongThenRetries()
    {
        await using TestHost host = new();
        host.Stub.Responder = (_, index) => index == 1
            ? TooManyRequests(7)
            : StubThingSpace.Json(HttpStatusCode.OK, """{"hasMoreData":false,"devices":[]}""");
        Task retryDelay = host.Time.WaitForTimerAsync(TimeSpan.FromSeconds(7));

        Task<AccountDeviceListResult> call = host.Client.ListDevicesInformationAsync(List);
        await retryDelay.WaitAsync(TimeSpan.FromSeconds(30)); // the pipeline scheduled exactly the Retry-After delay
        Assert.False(call.IsCompleted);
        Assert.Single(host.Stub.ApiRequests);
        host.Time.Fake.Advance(TimeSpan.FromSeconds(7));
        AccountDeviceListResult result = await call.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.False(result.HasMoreData);
        Assert.Equal(2, host.Stub.ApiRequests.Count);
    }

    [Fact]
    public async Task Activate_429_IsNotRetried()
    {
        await using TestHost host = new();
        host.Stub.Responder = (_, _) => TooManyRequests(1);

        ThingSpaceRequestFailedException error = await Assert.ThrowsAsync<ThingSpaceRequestFailedException>(
            () => host.Client.ActivateServiceForDevicesAsync(new() { Devices = [], ServicePlan = "p", MdnZipCode = "98801" }).WaitAsync(Deadline));

        Assert.Equal(429, error.Status);
        Assert.True(error.IsTransient);
        Assert.Equal("UnifiedWebService.REQUEST_FAILED.TooManyRequests", error.ErrorCode);
        Assert.Single(host.Stub.ApiRequests);
    }

    [Theory]
    [InlineData(HttpStatusCode.InternalServerError)]
    [InlineData(HttpStatusCode.ServiceUnavailable)]
    [InlineData(HttpStatusCode.RequestTimeout)]
    public async Task StateChanges_TransientStatus_AreSentOnce(HttpStatusCode status)
    {
        await using TestHost host = new();
        host.Stub.Responder = (_, _) => new HttpResponseMessage(status);

        ThingSpaceRequestFailedException error = await Assert.ThrowsAsync<ThingSpaceRequestFailedException>(
            () => host.Client.SuspendServiceForDevicesAsync(new()).WaitAsync(Deadline));

        Assert.Equal((int)status, error.Status);
        Assert.Single(host.Stub.ApiRequests);
    }

    [Fact]
    public async Task Read_ConnectionFailure_IsRetried()
    {
        await using TestHost host = new(s => s["ThingSpace:Resilience:Retry:Delay"] = "00:00:00");
        host.Stub.Responder = (_, index) => index == 1
            ? throw new HttpRequestException("connection refused", null, HttpStatusCode.ServiceUnavailable)
            : StubThingSpace.Json(HttpStatusCode.OK, """{"hasMoreData":false,"devices":[]}""");

        AccountDeviceListResult result = await host.Client.ListDevicesInformationAsync(List);

        Assert.Empty(result.Devices);
        Assert.Equal(2, host.Stub.ApiRequests.Count);
    }

    [Fact]
    public async Task Read_ConnectionFailureEveryTime_ThrowsStatusZeroAfterRetries()
    {
        await using TestHost host = new(s => s["ThingSpace:Resilience:Retry:Delay"] = "00:00:00");
        host.Stub.Responder = (_, _) => throw new HttpRequestException("connection refused");

        ThingSpaceRequestFailedException error = await Assert.ThrowsAsync<ThingSpaceRequestFailedException>(
            () => host.Client.ListDevicesInformationAsync(List));

        Assert.Equal(0, error.Status);
        Assert.Contains("no response", error.Message, StringComparison.Ordinal);
        Assert.Equal(3, host.Stub.ApiRequests.Count); // 1 + MaxRetryAttempts (2)
    }

    [Fact]
    public async Task AuthHandlers_RunInsideEachAttempt_SecondAttemptGetsFreshToken()
    {
        await using TestHost host = new(s => s["ThingSpace:TokenRefreshMargin"] = "00:01:00");
        host.Stub.TokenExpiresIn = 70; // refresh due 10 s after issue
        host.Stub.Responder = (_, index) =>
        {
            if (index == 1)
            {
                HttpResponseMessage busy = new(HttpStatusCode.ServiceUnavailable);
                busy.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.FromSeconds(15));
                return busy;
            }

            return StubThingSpace.Json(HttpStatusCode.OK, """{"hasMoreData":false,"devices":[]}""");
        };
        Task retryDelay = host.Time.WaitForTimerAsync(TimeSpan.FromSeconds(15));

        Task<AccountDeviceListResult> call = host.Client.ListDevicesInformationAsync(List);
        await retryDelay.WaitAsync(TimeSpan.FromSeconds(30));
        host.Time.Fake.Advance(TimeSpan.FromSeconds(15));
        await call.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(["Bearer tok-1", "Bearer tok-2"], host.Stub.ApiRequests.Select(r => r.Authorization));
    }

    [Fact]
    public async Task CircuitBreaker_OpensAfterFailures_ShortCircuitsWithoutSending()
    {
        await using TestHost host = new(s =>
        {
            s["ThingSpace:Resilience:CircuitBreaker:MinimumThroughput"] = "2";
            s["ThingSpace:Resilience:CircuitBreaker:FailureRatio"] = "0.5";
        });
        host.Stub.Responder = (_, _) => new HttpResponseMessage(HttpStatusCode.InternalServerError);

        for (int i = 0; i < 2; i++)
        {
            await Assert.ThrowsAsync<ThingSpaceRequestFailedException>(() => host.Client.SuspendServiceForDevicesAsync(new()).WaitAsync(Deadline));
        }

        ThingSpaceRequestFailedException error = await Assert.ThrowsAsync<ThingSpaceRequestFailedException>(
            () => host.Client.SuspendServiceForDevicesAsync(new()).WaitAsync(Deadline));

        Assert.Equal(0, error.Status);
        Assert.Contains("circuit breaker is open", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, host.Stub.ApiRequests.Count);
    }
}
