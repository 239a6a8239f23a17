using Azure.Data.Tables;
using Microsoft.AspNetCore.Http;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Moq;
using Orchestrations.Testing;
using Orchestrations.Testing.Azurite;
using Orchestrations.ThingSpace.Callbacks;
using Orchestrations.Workflows.Callbacks;
using Orchestrations.Workflows.Tests.Http;

namespace Orchestrations.Workflows.Tests.Callbacks;

/// <summary>The callback handler called directly (as both hosts call it), over a real inbox on Azurite.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class ThingSpaceCallbackHandlerTests
{
    private const string Username = "tsp-callback";
    private const string Password = "callback-password-123";

    private readonly Mock<DurableTaskClient> _durable = new("test");
    private readonly FakeLogger<ThingSpaceCallbackHandler> _logger = new();
    private readonly WorkflowStorageOptions _storage = TestStorage.Unique();
    private readonly TableServiceClient _tables;
    private readonly CallbackInbox _inbox;
    private readonly ThingSpaceCallbackHandler _handler;

    public ThingSpaceCallbackHandlerTests(AzuriteFixture azurite)
    {
        _tables = new TableServiceClient(azurite.ConnectionString);
        _inbox = new CallbackInbox(_tables, _storage, TimeProvider.System);
        Mock<IOptionsMonitor<CallbackOptions>> options = new();
        options.SetupGet(o => o.CurrentValue).Returns(new CallbackOptions { Username = Username, Password = Password, MaxBodyBytes = 64 * 1024 });
        _durable.Setup(d => d.RaiseEventAsync(It.IsAny<string>(), It.IsAny<string>(), It.IsAny<object?>(), It.IsAny<CancellationToken>())).Returns(Task.CompletedTask);
        _handler = new ThingSpaceCallbackHandler(_inbox, options.Object, _logger);
    }

    internal static string DeviceMessage(string requestId, string imei, string user = Username, string password = Password, int count = 1) =>
        ThingSpaceCallbackBodies.DeviceActivated(requestId, imei, user, password, count);

    private static string CompletionMessage(string requestId) => ThingSpaceCallbackBodies.RequestCompleted(requestId, Username, Password);

    private async Task<HttpTestContext.Answer> PostAsync(string body)
    {
        HttpRequest request = HttpTestContext.Request("POST", body);
        return await (await _handler.ReceiveAsync(request, _durable.Object, CancellationToken.None)).ExecuteAsync(request);
    }

    [Fact]
    public async Task Receive_ValidDeviceCallback_StoredBeforeTheAnswerWithoutCredentials()
    {
        string requestId = Guid.NewGuid().ToString();

        HttpTestContext.Answer answer = await PostAsync(DeviceMessage(requestId, "356938035643809"));

        Assert.Equal(StatusCodes.Status200OK, answer.Status);
        Assert.Equal("stored", answer.Body.GetProperty("status").GetString());
        ThingSpaceCallback stored = Assert.Single((await _inbox.ReadPageAsync(requestId, null, 10)).Messages);
        Assert.Equal("Success", stored.Status);
        Assert.Null(stored.Username);
        Assert.Null(stored.Password);
        await foreach (TableEntity row in _tables.GetTableClient(_storage.CallbacksTable).QueryAsync<TableEntity>(e => e.PartitionKey == requestId))
        {
            Assert.DoesNotContain(Password, string.Join("|", row.Select(p => p.Value?.ToString())), StringComparison.Ordinal);
        }

        Assert.All(_logger.Collector.GetSnapshot(), r => Assert.DoesNotContain(Password, r.Message, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Receive_ThingSpaceRetriesTheSameMessage_StoredOnceAndEveryRetryAnswered2xx()
    {
        string requestId = Guid.NewGuid().ToString();

        for (int count = 1; count <= 4; count++)
        {
            HttpTestContext.Answer answer = await PostAsync(DeviceMessage(requestId, "356938035643809", count: count));
            Assert.Equal(StatusCodes.Status200OK, answer.Status);
            Assert.Equal(count == 1 ? "stored" : "duplicate", answer.Body.GetProperty("status").GetString());
        }

        Assert.Equal(1, (await _inbox.GetProgressAsync(requestId)).DeviceMessages);
    }

    [Theory]
    [InlineData("wrong-user", Password)]
    [InlineData(Username, "wrong-password")]
    [InlineData("", "")]
    public async Task Receive_WrongCredentials_401WithNoBodyAndNothingStored(string user, string password)
    {
        string requestId = Guid.NewGuid().ToString();

        HttpTestContext.Answer answer = await PostAsync(DeviceMessage(requestId, "356938035643809", user, password));

        Assert.Equal(StatusCodes.Status401Unauthorized, answer.Status);
        Assert.Null(answer.Json);
        Assert.Equal(0, (await _inbox.GetProgressAsync(requestId)).DeviceMessages);
        Assert.All(_logger.Collector.GetSnapshot(), r => Assert.DoesNotContain(password.Length > 0 ? password : "\u0000", r.Message, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("{\"requestId\": \"abc\", \"deviceIds\": [ }")]
    [InlineData("{\"username\":\"tsp-callback\",\"password\":\"wrong\",\"requestId\": \"abc\", \"deviceIds\": [ }")]
    [InlineData("not json at all")]
    [InlineData("[1, 2")]
    public async Task Receive_MalformedBodyWithoutTheCredentials_401WithNoBodyAndNoParserDetail(string body)
    {
        HttpTestContext.Answer answer = await PostAsync(body);

        Assert.Equal(StatusCodes.Status401Unauthorized, answer.Status);
        Assert.Null(answer.Json);
        Assert.DoesNotContain(_logger.Collector.GetSnapshot(), r => r.Message.Contains("malformed", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task Receive_MalformedJsonWithTheCredentials_400WithTheReasonAtA1BasedLine()
    {
        // The credentials come first; the body breaks on its second line.
        string body = $$"""{"username":"{{Username}}","password":"{{Password}}",""" + "\n" + "\"deviceIds\": [ }";

        HttpTestContext.Answer answer = await PostAsync(body);

        Assert.Equal(StatusCodes.Status400BadRequest, answer.Status);
        Assert.Equal("Malformed callback", answer.Body.GetProperty("title").GetString());
        string detail = answer.Body.GetProperty("detail").GetString()!;
        Assert.Contains("line 2, byte ", detail, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, detail, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadCredentials_TopLevelStringsOnlyCaseInsensitiveLastWins()
    {
        Assert.Equal(("u2", "p"), ThingSpaceCallbackHandler.ReadCredentials(
            """{"nested":{"username":"x"},"list":[{"password":"y"}],"UserName":"u1","password":"p","username":"u2"}"""u8));
        Assert.Equal(("u", null), ThingSpaceCallbackHandler.ReadCredentials("""{"username":"u","password": 5, "deviceIds": [ }"""u8));
        Assert.Equal((null, null), ThingSpaceCallbackHandler.ReadCredentials("""["username","u"]"""u8));
    }

    [Fact]
    public async Task Receive_NoRequestId_400NamingTheMember()
    {
        HttpTestContext.Answer answer = await PostAsync($$"""{"username":"{{Username}}","password":"{{Password}}","status":"Success"}""");

        Assert.Equal(StatusCodes.Status400BadRequest, answer.Status);
        Assert.Contains("requestId", answer.Body.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Receive_BodyOverTheLimit_413AndNothingStored()
    {
        string requestId = Guid.NewGuid().ToString();
        string huge = DeviceMessage(requestId, "356938035643809").Replace("\"status\"", $"\"padding\":\"{new string('x', 70 * 1024)}\",\"status\"", StringComparison.Ordinal);

        HttpTestContext.Answer answer = await PostAsync(huge);

        Assert.Equal(StatusCodes.Status413PayloadTooLarge, answer.Status);
        Assert.Equal(0, (await _inbox.GetProgressAsync(requestId)).DeviceMessages);
    }

    [Fact]
    public async Task Receive_CompletionForRoutedRequest_RaisesTheEventIntoTheWaitingInstance()
    {
        string requestId = Guid.NewGuid().ToString();
        await _inbox.RecordRouteAsync(requestId, "job-42", "activation");

        HttpTestContext.Answer answer = await PostAsync(CompletionMessage(requestId));

        Assert.Equal(StatusCodes.Status200OK, answer.Status);
        _durable.Verify(d => d.RaiseEventAsync("job-42", CallbackEvents.RequestCompleted, requestId.ToLowerInvariant(), It.IsAny<CancellationToken>()), Times.Once);
        Assert.True((await _inbox.GetProgressAsync(requestId)).Completed);
    }

    [Fact]
    public async Task Receive_CompletionBeforeRoute_KeptWithoutAnEventAndSeenByProgressOnceRouted()
    {
        string requestId = Guid.NewGuid().ToString();

        HttpTestContext.Answer early = await PostAsync(CompletionMessage(requestId));
        HttpTestContext.Answer device = await PostAsync(DeviceMessage(requestId, "356938035643809"));

        Assert.Equal((StatusCodes.Status200OK, StatusCodes.Status200OK), (early.Status, device.Status));
        _durable.Verify(d => d.RaiseEventAsync(It.IsAny<string>(), It.IsAny<string>(), It.IsAny<object?>(), It.IsAny<CancellationToken>()), Times.Never);
        await _inbox.RecordRouteAsync(requestId, "job-43", "activation");
        CallbackProgress progress = await _inbox.GetProgressAsync(requestId);
        Assert.True(progress.Completed);
        Assert.Equal(1, progress.DeviceMessages);
    }

    [Fact]
    public async Task Receive_WaitingInstanceAlreadyFinished_StillAnswered2xxBecauseTheMessageIsStored()
    {
        string requestId = Guid.NewGuid().ToString();
        await _inbox.RecordRouteAsync(requestId, "job-44", "activation");
        _durable.Setup(d => d.RaiseEventAsync("job-44", It.IsAny<string>(), It.IsAny<object?>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new InvalidOperationException("The orchestration instance 'job-44' has completed."));

        HttpTestContext.Answer answer = await PostAsync(CompletionMessage(requestId));

        Assert.Equal(StatusCodes.Status200OK, answer.Status);
        Assert.True((await _inbox.GetProgressAsync(requestId)).Completed);
        Assert.Contains(_logger.Collector.GetSnapshot(), r => r.Id.Id == 1104);
    }

    [Fact]
    public void CredentialsMatch_BothValuesMustMatch()
    {
        CallbackOptions settings = new() { Username = Username, Password = Password };

        Assert.True(ThingSpaceCallbackHandler.CredentialsMatch(ThingSpaceCallback.Parse(System.Text.Encoding.UTF8.GetBytes(DeviceMessage("r", "1"))), settings));
        Assert.False(ThingSpaceCallbackHandler.CredentialsMatch(ThingSpaceCallback.Parse(System.Text.Encoding.UTF8.GetBytes(DeviceMessage("r", "1", password: Password + "x"))), settings));
        Assert.False(ThingSpaceCallbackHandler.CredentialsMatch(ThingSpaceCallback.Parse(System.Text.Encoding.UTF8.GetBytes(DeviceMessage("r", "1", user: "x" + Username))), settings));
    }
}
