using System.Net;
using Microsoft.Extensions.Logging.Testing;
using Orchestrations.ThingSpace.Models;

namespace Orchestrations.ThingSpace.Tests;

/// <summary>Error body shapes and the absence of secrets in exceptions and logs.</summary>
public sealed class ErrorAndLoggingTests
{
    [Fact]
    public async Task ConnectivityManagementError_ExposesCodeMessageStatusAndOperation()
    {
        await using TestHost host = new();
        host.Stub.Responder = (_, _) => StubThingSpace.Json(
            HttpStatusCode.BadRequest,
            """{"errorCode":"UnifiedWebService.REQUEST_FAILED.AccountNotFound","errorMessage":"Account 0000123456-00001 was not found."}""");

        ThingSpaceRequestFailedException error = await Assert.ThrowsAsync<ThingSpaceRequestFailedException>(
            () => host.Client.ActivateServiceForDevicesAsync(new() { Devices = [], ServicePlan = "p", MdnZipCode = "98801" }));

        Assert.Equal(400, error.Status);
        Assert.Equal("UnifiedWebService.REQUEST_FAILED.AccountNotFound", error.ErrorCode);
        Assert.Equal("Account 0000123456-00001 was not found.", error.ErrorMessage);
        Assert.Equal("ActivateServiceForDevices", error.Operation);
        Assert.False(error.IsTransient);
        Assert.Contains("HTTP 400", error.Message, StringComparison.Ordinal);
        Assert.Contains("UnifiedWebService.REQUEST_FAILED.AccountNotFound", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RestErrorResponse_OfDeviceUpload_IsRead()
    {
        await using TestHost host = new();
        host.Stub.Responder = (_, _) => StubThingSpace.Json(HttpStatusCode.BadRequest, """{"errorCode":"400","errorMessage":"Invalid SKU"}""");

        ThingSpaceRequestFailedException error = await Assert.ThrowsAsync<ThingSpaceRequestFailedException>(
            () => host.Client.DeviceUploadAsync(new() { AccountName = "a", Devices = [], EmailAddress = "e@x.y", DeviceSku = "S", UploadType = "IMEI" }));

        Assert.Equal("400", error.ErrorCode);
        Assert.Equal("Invalid SKU", error.ErrorMessage);
        Assert.Equal("DeviceUpload", error.Operation);
    }

    [Fact]
    public async Task GatewayFault_404_IsReadWithCodeAndDescription()
    {
        await using TestHost host = new();
        host.Stub.Responder = (_, _) => StubThingSpace.Json(
            HttpStatusCode.BadRequest,
            """{"fault":{"code":"900906","message":"No matching resource found","description":"No matching resource found in the API for the given request"}}""");

        ThingSpaceRequestFailedException error = await Assert.ThrowsAsync<ThingSpaceRequestFailedException>(
            () => host.Client.SuspendServiceForDevicesAsync(new()));

        Assert.Equal("900906", error.ErrorCode);
        Assert.Equal("No matching resource found: No matching resource found in the API for the given request", error.ErrorMessage);
    }

    [Fact]
    public async Task UnknownErrorBody_IsQuotedAndSecretsRedacted()
    {
        await using TestHost host = new();
        host.Stub.Responder = (r, _) => new HttpResponseMessage(HttpStatusCode.BadGateway)
        {
            Content = new StringContent($"<html>upstream failed for token {r.Authorization} session {r.SessionToken} pw {TestHost.Password}</html>"),
        };

        ThingSpaceRequestFailedException error = await Assert.ThrowsAsync<ThingSpaceRequestFailedException>(
            () => host.Client.SuspendServiceForDevicesAsync(new()));

        Assert.Equal(502, error.Status);
        Assert.Null(error.ErrorCode);
        Assert.Contains("upstream failed", error.Message, StringComparison.Ordinal);
        AssertNoSecret(error.ToString());
    }

    [Fact]
    public async Task UnreadableSuccessBody_ThrowsWithOperationAndStatus()
    {
        await using TestHost host = new();
        host.Stub.Responder = (_, _) => StubThingSpace.Json(HttpStatusCode.OK, """{"hasMoreData":"maybe"}""");

        ThingSpaceRequestFailedException error = await Assert.ThrowsAsync<ThingSpaceRequestFailedException>(
            () => host.Client.ListDevicesInformationAsync(new()));

        Assert.Equal(200, error.Status);
        Assert.Contains("ListDevicesInformation", error.Message, StringComparison.Ordinal);
        Assert.Contains("AccountDeviceListResult", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Logs_OfSuccessFailureAndRenewal_NeverContainSecrets()
    {
        await using TestHost host = new();
        host.Stub.Responder = (r, index) => index switch
        {
            1 => StubThingSpace.Json(HttpStatusCode.BadRequest, """{"errorCode":"UnifiedWebService.REQUEST_FAILED.SessionToken.Expired","errorMessage":"expired"}"""),
            2 => StubThingSpace.Json(HttpStatusCode.OK, """{"requestId":"r1"}"""),
            3 => StubThingSpace.Json(HttpStatusCode.Unauthorized, """{"fault":{"code":"900901","message":"Invalid Credentials"}}"""),
            4 => StubThingSpace.Json(HttpStatusCode.OK, """{"requestId":"r2"}"""),
            _ => StubThingSpace.Json(HttpStatusCode.BadRequest, $$"""{"errorCode":"X","errorMessage":"bad {{TestHost.Password}} {{r.SessionToken}}"}"""),
        };

        await host.Client.SuspendServiceForDevicesAsync(new());
        await host.Client.SuspendServiceForDevicesAsync(new());
        ThingSpaceRequestFailedException error = await Assert.ThrowsAsync<ThingSpaceRequestFailedException>(
            () => host.Client.SuspendServiceForDevicesAsync(new()));
        await host.Client.StartSessionAsync();

        AssertNoSecret(error.ToString());
        IReadOnlyList<FakeLogRecord> records = host.Logs.GetSnapshot();
        Assert.Contains(records, r => r.Message.Contains("session", StringComparison.OrdinalIgnoreCase)); // renewals are logged
        Assert.Contains(records, r => r.Message.Contains("OAuth token", StringComparison.Ordinal));
        foreach (FakeLogRecord record in records)
        {
            AssertNoSecret(record.Message);
            foreach (KeyValuePair<string, string?> pair in record.StructuredState ?? [])
            {
                AssertNoSecret(pair.Value ?? string.Empty);
            }
        }
    }

    [Theory]
    [InlineData(0, null, true)]
    [InlineData(503, null, true)]
    [InlineData(429, null, true)]
    [InlineData(400, "UnifiedWebService.REQUEST_FAILED.UnexpectedError", true)]
    [InlineData(400, "UnifiedWebService.REQUEST_FAILED.SessionToken.Expired", false)]
    [InlineData(404, null, false)]
    public void Exception_IsTransient_ClassifiesStatusAndCode(int status, string? code, bool transient)
    {
        ThingSpaceRequestFailedException error = new(status, code, null, "Op", "m");
        Assert.Equal(transient, error.IsTransient);
        Assert.Equal(code is not null && code.Contains("SessionToken", StringComparison.Ordinal), error.IsSessionTokenError);
    }

    [Fact]
    public void CredentialModels_ToString_HidePasswords()
    {
        Assert.DoesNotContain("p@ss", new LogInRequest { Username = "u", Password = "p@ss" }.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("p@ss", new RegisterCallbackRequest { Name = "n", Url = new Uri("https://x.test"), Password = "p@ss" }.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("p@ss", new CallbackListener { Password = "p@ss" }.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("p@ss", Callbacks.ThingSpaceCallback.Parse("""{"password":"p@ss","requestId":"r"}""").ToString(), StringComparison.Ordinal);
    }

    private static void AssertNoSecret(string text)
    {
        foreach (string secret in new[] { TestHost.AppKey, TestHost.AppSecret, TestHost.Password, "tok-1", "tok-2", "sess-1", "sess-2", "sess-3" })
        {
            Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
        }
    }
}
