using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;

namespace Orchestrations.Simulator.Tests;

public sealed class AuthTests
{
    private static async Task<(HttpStatusCode Status, JsonObject? Body)> TokenAsync(SimHost sim, string key, string secret)
    {
        using HttpClient http = new() { BaseAddress = sim.BaseAddress };
        using HttpRequestMessage request = new(HttpMethod.Post, "api/ts/v1/oauth2/token")
        {
            Content = new FormUrlEncodedContent([new("grant_type", "client_credentials")]),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{key}:{secret}")));
        using HttpResponseMessage response = await http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadFromJsonAsync<JsonObject>());
    }

    [Fact]
    public async Task Token_RequestedTwiceWithinAnHour_SameTokenThenNewAfterExpiry()
    {
        FakeTimeProvider time = new(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));
        await using SimHost sim = await SimHost.StartAsync(time: time);

        (_, JsonObject? first) = await TokenAsync(sim, "sim-key", "sim-secret");
        time.Advance(TimeSpan.FromMinutes(30));
        (_, JsonObject? second) = await TokenAsync(sim, "sim-key", "sim-secret");
        time.Advance(TimeSpan.FromMinutes(31));
        (_, JsonObject? third) = await TokenAsync(sim, "sim-key", "sim-secret");

        Assert.Equal("Bearer", first!["token_type"]!.GetValue<string>());
        Assert.Equal(3600, first["expires_in"]!.GetValue<int>());
        Assert.Equal(first["access_token"]!.GetValue<string>(), second!["access_token"]!.GetValue<string>());
        Assert.Equal(1800, second["expires_in"]!.GetValue<int>());
        Assert.NotEqual(first["access_token"]!.GetValue<string>(), third!["access_token"]!.GetValue<string>());
    }

    [Fact]
    public async Task Token_WrongSecret_Returns401InvalidClient()
    {
        await using SimHost sim = await SimHost.StartAsync();

        (HttpStatusCode status, JsonObject? body) = await TokenAsync(sim, "sim-key", "wrong");

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("invalid_client", body!["error"]!.GetValue<string>());
    }

    [Fact]
    public async Task DeviceCall_MissingOrExpiredBearer_ReturnsGatewayFaults()
    {
        FakeTimeProvider time = new(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));
        await using SimHost sim = await SimHost.StartAsync(time: time);
        using TsClient client = await sim.LoginAsync();
        string token = client.AccessToken!;

        client.AccessToken = null;
        TsClient.Result missing = await client.PostAsync("m2m/v1/devices/actions/list", new JsonObject());
        client.AccessToken = token;
        time.Advance(TimeSpan.FromMinutes(61));
        TsClient.Result expired = await client.PostAsync("m2m/v1/devices/actions/list", new JsonObject());

        Assert.Equal(HttpStatusCode.Unauthorized, missing.Status);
        Assert.Equal("900902", missing.Body!["fault"]!["code"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Unauthorized, expired.Status);
        Assert.Equal("900901", expired.Body!["fault"]!["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task Session_UsedWithin20Minutes_StaysValid_IdleFor21Minutes_Expires()
    {
        FakeTimeProvider time = new(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));
        await using SimHost sim = await SimHost.StartAsync(time: time);
        using TsClient client = await sim.LoginAsync();
        JsonObject body = new() { ["accountName"] = SimHost.Account };

        time.Advance(TimeSpan.FromMinutes(19));
        TsClient.Result kept = await client.PostAsync("m2m/v1/devices/actions/list", body);
        time.Advance(TimeSpan.FromMinutes(19));
        TsClient.Result slid = await client.PostAsync("m2m/v1/devices/actions/list", body);
        time.Advance(TimeSpan.FromMinutes(21));
        TsClient.Result expired = await client.PostAsync("m2m/v1/devices/actions/list", body);

        Assert.Equal(HttpStatusCode.OK, kept.Status);
        Assert.Equal(HttpStatusCode.OK, slid.Status);
        Assert.Equal(HttpStatusCode.Unauthorized, expired.Status);
        Assert.Equal("UnifiedWebService.REQUEST_FAILED.SessionToken.Expired", expired.ErrorCode);
    }

    [Fact]
    public async Task Session_MissingOrMalformedToken_ReturnsDocumentedCodes()
    {
        await using SimHost sim = await SimHost.StartAsync();
        using TsClient client = await sim.LoginAsync();

        client.SessionToken = null;
        TsClient.Result missing = await client.PostAsync("m2m/v1/devices/actions/list", new JsonObject());
        client.SessionToken = "not-a-guid";
        TsClient.Result malformed = await client.PostAsync("m2m/v1/devices/actions/list", new JsonObject());

        Assert.Equal("UnifiedWebService.REQUEST_FAILED.SessionToken.Format", missing.ErrorCode);
        Assert.Equal("UnifiedWebService.INPUT_INVALID.SessionToken.Invalid", malformed.ErrorCode);
    }

    [Fact]
    public async Task Logout_ThenUse_SessionExpired()
    {
        await using SimHost sim = await SimHost.StartAsync();
        using TsClient client = await sim.LoginAsync();

        TsClient.Result logout = await client.PostAsync("m2m/v1/session/logout", null);
        TsClient.Result after = await client.PostAsync("m2m/v1/devices/actions/list", new JsonObject());

        Assert.Equal(client.SessionToken, logout.Body!["sessionToken"]!.GetValue<string>());
        Assert.Equal("UnifiedWebService.REQUEST_FAILED.SessionToken.Expired", after.ErrorCode);
    }

    [Fact]
    public async Task Login_FiveWrongPasswords_LocksTheUser()
    {
        await using SimHost sim = await SimHost.StartAsync();
        using TsClient client = await sim.LoginAsync();
        JsonObject wrong = new() { ["username"] = "sim-user", ["password"] = "nope" };

        for (int i = 0; i < 5; i++)
        {
            Assert.Equal("UnifiedWebService.REQUEST_FAILED.InvalidCredentials", (await client.PostAsync("m2m/v1/session/login", wrong)).ErrorCode);
        }

        TsClient.Result locked = await client.PostAsync("m2m/v1/session/login", new JsonObject { ["username"] = "sim-user", ["password"] = "sim-password" });
        Assert.Equal("UnifiedWebService.REQUEST_FAILED.UserLocked", locked.ErrorCode);
    }
}
