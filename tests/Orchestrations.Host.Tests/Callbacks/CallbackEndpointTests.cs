using System.Net;
using System.Text;
using Azure.Data.Tables;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Moq;
using Orchestrations.Testing;
using Orchestrations.Testing.Azurite;
using Orchestrations.ThingSpace.Callbacks;
using Orchestrations.Workflows.Callbacks;

namespace Orchestrations.Host.Tests.Callbacks;

[Collection(AzuriteCollection.Name)]
public sealed class CallbackEndpointTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private readonly Mock<DurableTaskClient> _durable = new("test-hub");
    private WebApplicationFactory<Program> _factory = null!;
    private HttpClient _client = null!;

    public Task InitializeAsync()
    {
        _factory = TestHost.Create(azurite, services: s => s.AddSingleton(_durable.Object));
        _client = _factory.CreateClient();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _factory.DisposeAsync();
    }

    private CallbackInbox Inbox => _factory.Services.GetRequiredService<CallbackInbox>();

    private static string DeviceMessage(string requestId, string imei, string user = TestHost.CallbackUsername, string password = TestHost.CallbackPassword, int count = 1) =>
        ThingSpaceCallbackBodies.DeviceActivated(requestId, imei, user, password, count);

    private static string CompletionMessage(string requestId) => ThingSpaceCallbackBodies.RequestCompleted(requestId, TestHost.CallbackUsername, TestHost.CallbackPassword);

    private Task<HttpResponseMessage> PostAsync(string body) =>
        _client.PostAsync("/api/callbacks/thingspace", new StringContent(body, Encoding.UTF8, "application/json"));

    [Fact]
    public async Task Post_ValidDeviceCallback_StoredBeforeTheAnswerWithoutCredentials()
    {
        string requestId = Guid.NewGuid().ToString();

        using HttpResponseMessage response = await PostAsync(DeviceMessage(requestId, "356938035643809"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        CallbackPage page = await Inbox.ReadPageAsync(requestId, null, 10);
        ThingSpaceCallback stored = Assert.Single(page.Messages);
        Assert.Equal("Success", stored.Status);
        Assert.Null(stored.Username);
        Assert.Null(stored.Password);
        TableServiceClient tables = _factory.Services.GetRequiredService<TableServiceClient>();
        await foreach (TableEntity row in tables.GetTableClient(CallbacksTable()).QueryAsync<TableEntity>(e => e.PartitionKey == requestId))
        {
            Assert.DoesNotContain(TestHost.CallbackPassword, string.Join("|", row.Select(p => p.Value?.ToString())), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Post_ThingSpaceRetriesTheSameMessage_StoredOnceAndEveryRetryAnswered2xx()
    {
        string requestId = Guid.NewGuid().ToString();

        for (int count = 1; count <= 4; count++)
        {
            using HttpResponseMessage response = await PostAsync(DeviceMessage(requestId, "356938035643809", count: count));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Contains(count == 1 ? "\"stored\"" : "\"duplicate\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.Equal(1, (await Inbox.GetProgressAsync(requestId)).DeviceMessages);
    }

    [Theory]
    [InlineData("wrong-user", TestHost.CallbackPassword)]
    [InlineData(TestHost.CallbackUsername, "wrong-password")]
    [InlineData("", "")]
    public async Task Post_WrongCredentials_401WithNoDetailAndNothingStored(string user, string password)
    {
        string requestId = Guid.NewGuid().ToString();

        using HttpResponseMessage response = await PostAsync(DeviceMessage(requestId, "356938035643809", user, password));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("", await response.Content.ReadAsStringAsync());
        Assert.Equal(0, (await Inbox.GetProgressAsync(requestId)).DeviceMessages);
    }

    [Fact]
    public async Task Post_MalformedJsonWithTheCredentials_400WithTheReasonAndA1BasedPosition()
    {
        // Only a caller with the credentials learns why the body was rejected (without them: an empty 401).
        using HttpResponseMessage response = await PostAsync(
            $$"""{"username":"{{TestHost.CallbackUsername}}","password":"{{TestHost.CallbackPassword}}",""" + "\n\"requestId\": \"abc\", \"deviceIds\": [ }");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        string body = await response.Content.ReadAsStringAsync();
        Assert.Contains("line 2, byte", body, StringComparison.Ordinal);
        Assert.Contains("Malformed callback", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Post_MalformedJsonWithoutTheCredentials_401WithAnEmptyBody()
    {
        using HttpResponseMessage response = await PostAsync("{\"requestId\": \"abc\", \"deviceIds\": [ }");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Post_NoRequestId_400NamingTheMember()
    {
        using HttpResponseMessage response = await PostAsync($$"""{"username":"{{TestHost.CallbackUsername}}","password":"{{TestHost.CallbackPassword}}","status":"Success"}""");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("requestId", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Post_BodyOverTheLimit_413()
    {
        string huge = DeviceMessage(Guid.NewGuid().ToString(), "356938035643809").Replace("\"status\"", $"\"padding\":\"{new string('x', 300 * 1024)}\",\"status\"", StringComparison.Ordinal);

        using HttpResponseMessage response = await PostAsync(huge);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task Post_CompletionForRoutedRequest_RaisesEventIntoTheWaitingInstance()
    {
        string requestId = Guid.NewGuid().ToString();
        await Inbox.RecordRouteAsync(requestId, "job-42", "activation");

        using HttpResponseMessage response = await PostAsync(CompletionMessage(requestId));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        _durable.Verify(d => d.RaiseEventAsync("job-42", CallbackEvents.RequestCompleted, requestId.ToLowerInvariant(), It.IsAny<CancellationToken>()), Times.Once);
        Assert.True((await Inbox.GetProgressAsync(requestId)).Completed);
    }

    [Fact]
    public async Task Post_CompletionBeforeRoute_KeptAndSeenByProgressOnceRouted()
    {
        string requestId = Guid.NewGuid().ToString();

        using HttpResponseMessage early = await PostAsync(CompletionMessage(requestId));
        using HttpResponseMessage device = await PostAsync(DeviceMessage(requestId, "356938035643809"));

        Assert.Equal(HttpStatusCode.OK, early.StatusCode);
        _durable.Verify(d => d.RaiseEventAsync(It.IsAny<string>(), It.IsAny<string>(), It.IsAny<object?>(), It.IsAny<CancellationToken>()), Times.Never);
        await Inbox.RecordRouteAsync(requestId, "job-43", "activation");
        CallbackProgress progress = await Inbox.GetProgressAsync(requestId);
        Assert.True(progress.Completed);
        Assert.Equal(1, progress.DeviceMessages);
    }

    [Fact]
    public async Task ReadPage_ManyDevices_PagesCoverEveryMessageExactlyOnce()
    {
        string requestId = Guid.NewGuid().ToString();
        HashSet<string> imeis = [.. Enumerable.Range(1, 23).Select(Provisioning.TestDevices.Imei)];
        foreach (string imei in imeis)
        {
            using HttpResponseMessage response = await PostAsync(DeviceMessage(requestId, imei));
            response.EnsureSuccessStatusCode();
        }

        List<string> read = [];
        string? token = null;
        int pages = 0;
        do
        {
            CallbackPage page = await Inbox.ReadPageAsync(requestId, token, 5);
            read.AddRange(page.Messages.Select(m => m.DeviceIds![0].Id));
            token = page.ContinuationToken;
            pages++;
        }
        while (token is not null);

        Assert.Equal(5, pages);
        Assert.Equal(imeis.Order(), read.Order());
    }

    private string CallbacksTable() => _factory.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Orchestrations.Workflows.WorkflowStorageOptions>>().Value.CallbacksTable;
}
