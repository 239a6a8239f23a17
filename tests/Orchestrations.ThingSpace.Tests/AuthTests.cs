using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Orchestrations.ThingSpace.Models;

namespace Orchestrations.ThingSpace.Tests;

/// <summary>OAuth token caching and the VZ-M2M-Token session.</summary>
public sealed class AuthTests
{
    private static readonly CarrierActionsRequest Suspend = new() { AccountName = "0000123456-00001" };

    [Fact]
    public async Task OAuthToken_ReusedUntilShortlyBeforeExpiry_ThenRefreshed()
    {
        await using TestHost host = new(s => s["ThingSpace:TokenRefreshMargin"] = "00:01:00");
        host.Stub.TokenExpiresIn = 600;

        await host.Client.SuspendServiceForDevicesAsync(Suspend);
        host.Time.Fake.Advance(TimeSpan.FromSeconds(539)); // 9 min - 1 s: still inside the refresh margin boundary
        await host.Client.SuspendServiceForDevicesAsync(Suspend);
        Assert.Equal(1, host.Stub.TokenRequests);

        host.Time.Fake.Advance(TimeSpan.FromSeconds(1)); // expires_in (600) - margin (60) reached
        await host.Client.SuspendServiceForDevicesAsync(Suspend);

        Assert.Equal(2, host.Stub.TokenRequests);
        Assert.Equal(["Bearer tok-1", "Bearer tok-1", "Bearer tok-2"], host.Stub.ApiRequests.Select(r => r.Authorization));
    }

    [Fact]
    public async Task ConcurrentCalls_Twenty_ShareOneLoginAndOneTokenRefresh()
    {
        await using TestHost host = new(s => s["ThingSpace:TokenRefreshMargin"] = "00:01:00");
        host.Stub.TokenExpiresIn = 600;
        IThingSpaceClient client = host.Client;
        Auth.OAuthTokenProvider tokens = host.Services.GetRequiredService<Auth.OAuthTokenProvider>();
        Auth.M2MSessionProvider sessions = host.Services.GetRequiredService<Auth.M2MSessionProvider>();

        // Cold start: the first caller logs in (holding the token request open); 19 queue behind that one login.
        Gate gate = new();
        host.Stub.BeforeTokenResponse = gate.EnterAsync;
        Task[] calls = [.. Enumerable.Range(0, 20).Select(_ => Task.Run(() => client.SuspendServiceForDevicesAsync(Suspend)))];
        await gate.Entered.WaitAsync(Deadline);
        await WaitUntilAsync(() => sessions.Waiting == 19);
        gate.Release();
        await Task.WhenAll(calls).WaitAsync(Deadline);
        Assert.Equal((1, 1), (host.Stub.TokenRequests, host.Stub.Logins));

        // Token stale, session fresh: 20 callers need a new token; 19 queue behind one refresh.
        host.Time.Fake.Advance(TimeSpan.FromMinutes(10));
        gate = new();
        host.Stub.BeforeTokenResponse = gate.EnterAsync;
        calls = [.. Enumerable.Range(0, 20).Select(_ => Task.Run(() => client.SuspendServiceForDevicesAsync(Suspend)))];
        await gate.Entered.WaitAsync(Deadline);
        await WaitUntilAsync(() => tokens.Waiting == 19);
        gate.Release();
        await Task.WhenAll(calls).WaitAsync(Deadline);

        Assert.Equal((2, 1), (host.Stub.TokenRequests, host.Stub.Logins));
        Assert.Equal(40, host.Stub.ApiRequests.Count);
        Assert.All(host.Stub.ApiRequests.Take(20), r => Assert.Equal(("Bearer tok-1", "sess-1"), (r.Authorization, r.SessionToken)));
        Assert.All(host.Stub.ApiRequests.Skip(20), r => Assert.Equal(("Bearer tok-2", "sess-1"), (r.Authorization, r.SessionToken)));
    }

    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    /// <summary>Polls a condition until a deadline (no fixed sleeps).</summary>
    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        System.Diagnostics.Stopwatch elapsed = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(elapsed.Elapsed < Deadline, "condition not reached before the deadline");
            await Task.Yield();
        }
    }

    /// <summary>Holds the first token response open until released.</summary>
    private sealed class Gate
    {
        private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Entered => _entered.Task;

        public Task EnterAsync()
        {
            _entered.TrySetResult();
            return _release.Task;
        }

        public void Release() => _release.TrySetResult();
    }

    [Fact]
    public async Task Session_ReusedWhileActive_RenewedAfterIdleTimeout()
    {
        await using TestHost host = new(s => s["ThingSpace:SessionIdleTimeout"] = "00:19:00");

        await host.Client.SuspendServiceForDevicesAsync(Suspend);
        host.Time.Fake.Advance(TimeSpan.FromMinutes(18));
        await host.Client.SuspendServiceForDevicesAsync(Suspend); // used again: sliding window restarts
        host.Time.Fake.Advance(TimeSpan.FromMinutes(18));
        await host.Client.SuspendServiceForDevicesAsync(Suspend);
        Assert.Equal(1, host.Stub.Logins);

        host.Time.Fake.Advance(TimeSpan.FromMinutes(19));
        await host.Client.SuspendServiceForDevicesAsync(Suspend);

        Assert.Equal(2, host.Stub.Logins);
        Assert.Equal(["sess-1", "sess-1", "sess-1", "sess-2"], host.Stub.ApiRequests.Select(r => r.SessionToken));
    }

    [Fact]
    public async Task SessionExpiredError_LogsInAgainAndResendsOnce()
    {
        await using TestHost host = new();
        host.Stub.Responder = (r, _) => r.SessionToken == "sess-1"
            ? StubThingSpace.Json(HttpStatusCode.BadRequest, """{"errorCode":"UnifiedWebService.REQUEST_FAILED.SessionToken.Expired","errorMessage":"Session token expired"}""")
            : StubThingSpace.Json(HttpStatusCode.OK, """{"requestId":"req-9"}""");

        DeviceManagementResult result = await host.Client.SuspendServiceForDevicesAsync(Suspend);

        Assert.Equal("req-9", result.RequestId);
        Assert.Equal(2, host.Stub.Logins);
        Assert.Equal(["sess-1", "sess-2"], host.Stub.ApiRequests.Select(r => r.SessionToken));
    }

    [Fact]
    public async Task Unauthorized_WithoutGatewayFault_RenewsSessionOnce()
    {
        await using TestHost host = new();
        host.Stub.Responder = (r, _) => r.SessionToken == "sess-1"
            ? new HttpResponseMessage(HttpStatusCode.Unauthorized)
            : StubThingSpace.Json(HttpStatusCode.OK, """{"requestId":"req-2"}""");

        DeviceManagementResult result = await host.Client.ActivateServiceForDevicesAsync(new() { Devices = [], ServicePlan = "p", MdnZipCode = "98801" });

        Assert.Equal("req-2", result.RequestId);
        Assert.Equal(2, host.Stub.Logins);
        Assert.Equal(1, host.Stub.TokenRequests);
    }

    [Fact]
    public async Task Unauthorized_GatewayInvalidCredentials_RefreshesTokenOnce()
    {
        await using TestHost host = new();
        host.Stub.Responder = (r, _) => r.Authorization == "Bearer tok-1"
            ? StubThingSpace.Json(HttpStatusCode.Unauthorized, """{"fault":{"code":"900901","message":"Invalid Credentials","description":"Access failure for API"}}""")
            : StubThingSpace.Json(HttpStatusCode.OK, """{"requestId":"req-3"}""");

        DeviceManagementResult result = await host.Client.SuspendServiceForDevicesAsync(Suspend);

        Assert.Equal("req-3", result.RequestId);
        Assert.Equal(2, host.Stub.TokenRequests);
        Assert.Equal(["Bearer tok-1", "Bearer tok-2"], host.Stub.ApiRequests.Select(r => r.Authorization));
    }

    [Fact]
    public async Task Unauthorized_Persistent_FailsWithStatusAfterBoundedRenewals()
    {
        await using TestHost host = new();
        host.Stub.Responder = (_, _) =>
            StubThingSpace.Json(HttpStatusCode.Unauthorized, """{"fault":{"code":900901,"message":"Invalid Credentials","description":"Access failure"}}""");

        ThingSpaceRequestFailedException error = await Assert.ThrowsAsync<ThingSpaceRequestFailedException>(
            () => host.Client.SuspendServiceForDevicesAsync(Suspend));

        Assert.Equal(401, error.Status);
        Assert.Equal("900901", error.ErrorCode);
        Assert.Equal("SuspendServiceForDevices", error.Operation);
        Assert.Equal(2, host.Stub.ApiRequests.Count);
        Assert.Equal(2, host.Stub.TokenRequests);
    }

    [Fact]
    public async Task OAuthTokenEndpointFailure_ThrowsWithOAuthErrorAndNoSecret()
    {
        await using TestHost host = new();
        TestHostTokenFailure(host);

        ThingSpaceRequestFailedException error = await Assert.ThrowsAsync<ThingSpaceRequestFailedException>(
            () => host.Client.SuspendServiceForDevicesAsync(Suspend));

        Assert.Equal(401, error.Status);
        Assert.Equal("invalid_client", error.ErrorCode);
        Assert.Equal("OAuthToken", error.Operation);
        Assert.DoesNotContain(TestHost.AppSecret, error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(TestHost.AppKey, error.ToString(), StringComparison.Ordinal);
        Assert.Empty(host.Stub.ApiRequests);
    }

    [Fact]
    public async Task Unauthorized_WithBearerChallenge_RefreshesTokenOnce()
    {
        await using TestHost host = new();
        host.Stub.Responder = (r, _) =>
        {
            if (r.Authorization != "Bearer tok-1")
            {
                return StubThingSpace.Json(HttpStatusCode.OK, """{"requestId":"req-4"}""");
            }

            HttpResponseMessage challenge = new(HttpStatusCode.Unauthorized);
            challenge.Headers.WwwAuthenticate.Add(new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "error=\"invalid_token\""));
            return challenge;
        };

        DeviceManagementResult result = await host.Client.SuspendServiceForDevicesAsync(Suspend);

        Assert.Equal("req-4", result.RequestId);
        Assert.Equal((2, 1), (host.Stub.TokenRequests, host.Stub.Logins));
    }

    [Fact]
    public async Task LoginRejected_IsNotRepeated_AndFailsWithoutPassword()
    {
        await using TestHost host = new();
        host.Stub.LoginResponder = () => StubThingSpace.Json(
            HttpStatusCode.Unauthorized,
            $$"""{"errorCode":"UnifiedWebService.REQUEST_FAILED.InvalidCredentials","errorMessage":"Login failed for {{TestHost.Password}}"}""");

        ThingSpaceRequestFailedException error = await Assert.ThrowsAsync<ThingSpaceRequestFailedException>(
            () => host.Client.SuspendServiceForDevicesAsync(Suspend));

        Assert.Equal(1, host.Stub.Logins); // failed logins count toward a 5-attempt lockout
        Assert.Equal("SessionLogin", error.Operation);
        Assert.Equal(401, error.Status);
        Assert.DoesNotContain(TestHost.Password, error.ToString(), StringComparison.Ordinal);
        Assert.Empty(host.Stub.ApiRequests);
    }

    [Fact]
    public async Task LoginGatewayFault_RefreshesBearerTokenAndLogsInOnceMore()
    {
        await using TestHost host = new();
        int logins = 0;
        host.Stub.LoginResponder = () => Interlocked.Increment(ref logins) == 1
            ? StubThingSpace.Json(HttpStatusCode.Unauthorized, """{"fault":{"code":"900901","message":"Invalid Credentials"}}""")
            : StubThingSpace.Json(HttpStatusCode.OK, """{"sessionToken":"sess-x"}""");

        await host.Client.SuspendServiceForDevicesAsync(Suspend);

        Assert.Equal(2, host.Stub.Logins);
        Assert.Equal(2, host.Stub.TokenRequests);
        Assert.Equal(("Bearer tok-2", "sess-x"), (host.Stub.ApiRequests[0].Authorization, host.Stub.ApiRequests[0].SessionToken));
    }


    private static void TestHostTokenFailure(TestHost host) =>
        host.Stub.TokenResponder = () => StubThingSpace.Json(
            HttpStatusCode.Unauthorized,
            $$"""{"error":"invalid_client","error_description":"client {{TestHost.AppKey}} with secret {{TestHost.AppSecret}} unknown"}""");
}
