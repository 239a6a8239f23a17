using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;

namespace Orchestrations.Simulator;

/// <summary>Builds and wires the simulator app (used by Program and by the tests).</summary>
public static partial class SimulatorApp
{
    /// <summary>Creates the builder with the simulator's services; tests may replace services (e.g. the TimeProvider) before <see cref="Build"/>.</summary>
    public static WebApplicationBuilder CreateBuilder(string[] args)
    {
        WebApplicationBuilder builder = WebApplication.CreateBuilder(args);
        builder.Services.AddOptions<SimulatorOptions>()
            .Bind(builder.Configuration.GetSection(SimulatorOptions.SectionName))
            .ValidateDataAnnotations()
            .Validate(o => o.Faults.Validate().Count == 0, "Simulator:Faults is invalid (rates 0..1, non-negative delays, CallbackDelayMaxMs >= CallbackDelayMinMs).")
            .Validate(o => Seeding.IsAccountName(o.DefaultAccount), "Simulator:DefaultAccount must look like 0000123456-00001.")
            .ValidateOnStart();
        // Information tells a run's story (requests, batches, faults); the per-callback HTTP lines are Debug.
        builder.Logging.AddFilter("System.Net.Http.HttpClient", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<StateChanges>();
        builder.Services.AddSingleton<Inventory>();
        builder.Services.AddSingleton<AuthStore>();
        builder.Services.AddSingleton<FaultState>();
        builder.Services.AddSingleton<RequestCounts>();
        builder.Services.AddSingleton<CallbackRegistry>();
        builder.Services.AddSingleton<DeliveryLog>();
        builder.Services.AddSingleton<CallbackDispatcher>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<CallbackDispatcher>());
        builder.Services.AddSingleton<AsyncProcessor>();
        builder.Services.AddSingleton<ActivateRateLimiter>();
        builder.Services.AddSingleton<DeviceApi>();
        builder.Services.AddSingleton<SimulatorState>();
        builder.Services.AddSingleton<StatePersistence>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<StatePersistence>());
        builder.Services.AddHttpClient(CallbackDispatcher.HttpClientName, client => client.Timeout = TimeSpan.FromSeconds(30));
        return builder;
    }

    /// <summary>Builds the app: loads the seed and maps every route.</summary>
    public static WebApplication Build(WebApplicationBuilder builder)
    {
        WebApplication app = builder.Build();
        try
        {
            app.Services.GetRequiredService<SimulatorState>().Initialize();
        }
        catch
        {
            ((IDisposable)app).Dispose();
            throw;
        }

        app.Use(RenderErrorsAsync);
        app.Use(MarkChangedAsync);
        MapThingSpace(app);
        MapControl(app);
        return app;
    }

    private static async Task RenderErrorsAsync(HttpContext context, RequestDelegate next)
    {
        try
        {
            await next(context);
        }
        catch (ApiException ex) when (!context.Response.HasStarted)
        {
            context.Response.Clear();
            context.Response.StatusCode = ex.StatusCode;
            if (ex.RetryAfterSeconds is { } retryAfter)
            {
                context.Response.Headers.RetryAfter = retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            JsonNode body = ex.Gateway
                ? new JsonObject { ["fault"] = new JsonObject { ["code"] = ex.ErrorCode, ["message"] = ex.Message, ["description"] = ex.Description } }
                : new JsonObject { ["errorCode"] = ex.ErrorCode, ["errorMessage"] = ex.Message };
            await context.Response.WriteAsJsonAsync(body, context.RequestAborted);
        }
        catch (BadHttpRequestException ex) when (!context.Response.HasStarted)
        {
            context.Response.Clear();
            context.Response.StatusCode = ex.StatusCode;
            await context.Response.WriteAsJsonAsync(new JsonObject { ["errorCode"] = ErrorCodes.Prefix + ErrorCodes.DeserializationFailed, ["errorMessage"] = ex.Message }, context.RequestAborted);
        }
    }

    /// <summary>Any request but a GET may change state: tell the data folder writer (debounced there).</summary>
    private static async Task MarkChangedAsync(HttpContext context, RequestDelegate next)
    {
        try
        {
            await next(context);
        }
        finally
        {
            if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method))
            {
                context.RequestServices.GetRequiredService<StateChanges>().MarkDirty();
            }
        }
    }

    private static void MapThingSpace(WebApplication app)
    {
        app.MapPost("/api/ts/v1/oauth2/token", IssueTokenAsync);

        RouteGroupBuilder m2m = app.MapGroup("/api/m2m/v1").AddEndpointFilter(RequireBearer);

        m2m.MapPost("/session/login", async (HttpContext context, AuthStore auth) =>
        {
            LoginRequest request = await RequestTools.ReadAsync<LoginRequest>(context.Request);
            return Results.Json(new JsonObject { ["sessionToken"] = auth.Login(request.Username, request.Password), ["expiresIn"] = (int)AuthStore.SessionIdleTimeout.TotalSeconds });
        });

        RouteGroupBuilder session = m2m.MapGroup(string.Empty).AddEndpointFilter(RequireSession);
        session.MapPost("/session/logout", (HttpContext context, AuthStore auth) =>
        {
            string token = context.Request.Headers["VZ-M2M-Token"].ToString();
            auth.Logout(token);
            return Results.Json(new JsonObject { ["sessionToken"] = token });
        });
        session.MapPut("/session/password/actions/reset", async (HttpContext context, AuthStore auth) =>
        {
            PasswordResetRequest request = await RequestTools.ReadAsync<PasswordResetRequest>(context.Request);
            return Results.Json(new JsonObject { ["newPassword"] = auth.ResetPassword(request.OldPassword) });
        });

        session.MapGet("/callbacks/{aname}", ListCallbacks);
        session.MapPost("/callbacks/{aname}", RegisterCallbackAsync);
        session.MapDelete("/callbacks/{aname}/name/{sname}", DeregisterCallback);

        RouteGroupBuilder devices = session.MapGroup("/devices").AddEndpointFilter(InjectFaultsAsync);
        void Map(string verb, string pattern, string name, Func<DeviceApi, HttpContext, Task<IResult>> handler) =>
            devices.MapMethods(pattern, [verb], (HttpContext context, DeviceApi api) => handler(api, context)).WithMetadata(new OperationName(name));

        Map("POST", "/actions/activate", "activate", (a, c) => a.Activate(c));
        Map("POST", "/actions/add", "add", (a, c) => a.Add(c));
        Map("PUT", "/actions/contactInfo", "contactInfo", (a, c) => a.ContactInfo(c));
        Map("PUT", "/actions/customFields", "customFields", (a, c) => a.CustomFields(c));
        Map("POST", "/actions/deactivate", "deactivate", (a, c) => a.Deactivate(c));
        Map("POST", "/actions/delete", "delete", (a, c) => a.Delete(c));
        Map("POST", "/actions/list", "list", (a, c) => a.List(c));
        Map("POST", "/actions/list/imeiiccidmismatch", "mismatch", (a, c) => a.Mismatch(c));
        Map("PUT", "/actions/move", "move", (a, c) => a.Move(c));
        Map("PUT", "/actions/gotostate", "gotostate", (a, c) => a.GoToState(c));
        Map("PUT", "/actions/plan", "plan", (a, c) => a.ServicePlan(c));
        Map("POST", "/actions/suspend", "suspend", (a, c) => a.Suspend(c));
        Map("POST", "/actions/restore", "restore", (a, c) => a.Restore(c));
        Map("POST", "/availability/actions/list", "availability", (a, c) => a.Availability(c));
        Map("POST", "/connections/actions/listHistory", "connectionHistory", (a, c) => a.ConnectionHistory(c));
        Map("PUT", "/costCenter", "costCenter", (a, c) => a.CostCenter(c));
        Map("POST", "/extendeddiagnostics/actions/list", "diagnostics", (a, c) => a.Diagnostics(c));
        Map("POST", "/history/actions/list", "provisioningHistory", (a, c) => a.ProvisioningHistory(c));
        Map("POST", "/prl/actions/list", "prl", (a, c) => a.Prl(c));
        Map("POST", "/suspension/status", "suspensionStatus", (a, c) => a.SuspensionStatus(c));
        Map("POST", "/usage/actions/list", "usage", (a, c) => a.UsageHistory(c));
        Map("POST", "/usage/actions/list/aggregate", "aggregateUsage", (a, c) => a.AggregateUsage(c));
        devices.MapPut("/{serviceType}/actions/deviceId", (HttpContext context, DeviceApi api, string serviceType) => api.ChangeDeviceId(context, serviceType))
            .WithMetadata(new OperationName("deviceId"));
        Map("POST", "/actions/upload", "upload", (a, c) => a.Upload(c));
        Map("POST", "/usage/actions/billedusage/list", "billedUsage", (a, c) => a.BilledUsage(c));
        Map("POST", "/actions/usagesegmentationlabels", "labels", (a, c) => a.AssociateLabels(c));
        Map("DELETE", "/actions/usagesegmentationlabels", "deleteLabels", (a, c) => a.DeleteLabels(c));
        Map("POST", "/actions/uploadactivate", "uploadActivate", (a, c) => a.UploadActivate(c));
        foreach (string pattern in new[] { "/requests/status", "/request/status" })
        {
            Map("POST", pattern, "orderStatus", (a, c) => a.OrderStatus(c));
            Map("GET", pattern, "orderStatus", (a, c) => a.OrderStatus(c));
        }

        app.Map("/api/{**rest}", (HttpContext context) =>
            throw ApiException.GatewayFault(StatusCodes.Status400BadRequest, "900906", "No matching resource found for given API Request", $"No resource matches {context.Request.Method} {context.Request.Path}."));
    }

    private static async Task<IResult> IssueTokenAsync(HttpContext context, AuthStore auth)
    {
        if (!AuthenticationHeaderValue.TryParse(context.Request.Headers.Authorization.ToString(), out AuthenticationHeaderValue? header)
            || !string.Equals(header.Scheme, "Basic", StringComparison.OrdinalIgnoreCase)
            || header.Parameter is null)
        {
            return OAuthError(StatusCodes.Status401Unauthorized, "invalid_client", "Send Authorization: Basic base64(appKey:appSecret).");
        }

        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header.Parameter));
        }
        catch (FormatException)
        {
            return OAuthError(StatusCodes.Status401Unauthorized, "invalid_client", "The Basic credentials are not valid base64.");
        }

        int colon = decoded.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0 || !auth.CheckClient(decoded[..colon], decoded[(colon + 1)..]))
        {
            return OAuthError(StatusCodes.Status401Unauthorized, "invalid_client", "Unknown application key or wrong secret.");
        }

        if (!context.Request.HasFormContentType)
        {
            return OAuthError(StatusCodes.Status400BadRequest, "invalid_request", "The body must be application/x-www-form-urlencoded with grant_type=client_credentials.");
        }

        IFormCollection form = await context.Request.ReadFormAsync(context.RequestAborted);
        string? token = form["token"].FirstOrDefault();
        if (token is not null)
        {
            auth.RevokeToken(token);
        }

        if (form["grant_type"].FirstOrDefault() != "client_credentials")
        {
            return OAuthError(StatusCodes.Status400BadRequest, "unsupported_grant_type", "grant_type must be client_credentials.");
        }

        if (token is not null)
        {
            return Results.Json(new JsonObject { ["revoked"] = true });
        }

        (string accessToken, int expiresIn) = auth.IssueToken();
        return Results.Json(new JsonObject { ["access_token"] = accessToken, ["token_type"] = "Bearer", ["expires_in"] = expiresIn, ["scope"] = "ts.m2m" });
    }

    private static IResult OAuthError(int status, string error, string description) =>
        Results.Json(new JsonObject { ["error"] = error, ["error_description"] = description }, statusCode: status);

    private static ValueTask<object?> RequireBearer(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        HttpContext http = context.HttpContext;
        string header = http.Request.Headers.Authorization.ToString();
        if (string.IsNullOrWhiteSpace(header))
        {
            throw ApiException.GatewayFault(StatusCodes.Status401Unauthorized, "900902", "Missing Credentials", "Make sure your API invocation call has a header: 'Authorization: Bearer ACCESS_TOKEN'");
        }

        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
            || !http.RequestServices.GetRequiredService<AuthStore>().IsTokenValid(header["Bearer ".Length..].Trim()))
        {
            throw ApiException.GatewayFault(StatusCodes.Status401Unauthorized, "900901", "Invalid Credentials", "Access failure for API: /api/m2m/v1, version: v1. Make sure you have given the correct access token, and that it has not expired.");
        }

        return next(context);
    }

    private static ValueTask<object?> RequireSession(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        HttpContext http = context.HttpContext;
        http.RequestServices.GetRequiredService<AuthStore>().TouchSession(http.Request.Headers["VZ-M2M-Token"].FirstOrDefault());
        return next(context);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Fault: holding the answer to {Operation} for {DelayMs} ms ({When} it takes effect)")]
    private static partial void LogHeld(ILogger logger, string operation, long delayMs, string when);

    private static async ValueTask<object?> InjectFaultsAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        HttpContext http = context.HttpContext;
        FaultState faults = http.RequestServices.GetRequiredService<FaultState>();
        TimeProvider time = http.RequestServices.GetRequiredService<TimeProvider>();
        string operation = http.GetEndpoint()?.Metadata.GetMetadata<OperationName>()?.Name ?? "unknown";
        http.RequestServices.GetRequiredService<RequestCounts>().Add(operation);
        (TimeSpan slow, bool afterAction) = faults.SlowDelay(operation);
        if (slow > TimeSpan.Zero)
        {
            LogHeld(http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Orchestrations.Simulator.Faults"), operation, (long)slow.TotalMilliseconds, afterAction ? "after" : "before");
        }

        if (slow > TimeSpan.Zero && !afterAction)
        {
            await Task.Delay(slow, time, http.RequestAborted);
        }

        if (faults.TakeTooManyRequests(out int retryAfter))
        {
            throw new ApiException(StatusCodes.Status429TooManyRequests, ErrorCodes.Prefix + ErrorCodes.TooManyRequests, $"Too many requests (injected 429 burst); retry after {retryAfter} s.")
            {
                RetryAfterSeconds = retryAfter,
            };
        }

        if (faults.ShouldFail(operation))
        {
            throw new ApiException(StatusCodes.Status500InternalServerError, ErrorCodes.Prefix + ErrorCodes.UnexpectedError, $"Unexpected error in {operation} (injected by the simulator).");
        }

        object? answer = await next(context);
        if (slow > TimeSpan.Zero && afterAction)
        {
            // The operation took effect; a caller that gives up now never learns its request id.
            await Task.Delay(slow, time, CancellationToken.None);
        }

        return answer;
    }

    private static IResult ListCallbacks(string aname, Inventory inventory, CallbackRegistry registry)
    {
        CheckAccount(inventory, aname);
        JsonArray list = [.. registry.List(aname).Select(r => (JsonNode)new JsonObject
        {
            ["accountName"] = r.AccountName,
            ["serviceName"] = r.ServiceName,
            ["url"] = r.Url,
            ["username"] = r.Username,
            ["password"] = r.Password,
        })];
        return Results.Json(list);
    }

    private static async Task<IResult> RegisterCallbackAsync(string aname, HttpContext context, Inventory inventory, CallbackRegistry registry)
    {
        RegisterCallbackRequest request = await RequestTools.ReadAsync<RegisterCallbackRequest>(context.Request);
        CheckAccount(inventory, aname);
        string name = CheckServiceName(RequestTools.Required(request.Name, "name"));
        string url = RequestTools.Required(request.Url, "url");
        if (!Uri.TryCreate(url, UriKind.Absolute, out Uri? uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw ApiException.BadRequest(ErrorCodes.UnexpectedError, "url is not an absolute http(s) URL.");
        }

        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            throw ApiException.BadRequest(ErrorCodes.UnexpectedError, "url must not carry credentials; send them as username and password.");
        }

        registry.Register(new CallbackRegistration(aname, name, url, request.Username, request.Password));
        return Results.Json(new JsonObject { ["accountName"] = aname, ["serviceName"] = name });
    }

    private static IResult DeregisterCallback(string aname, string sname, Inventory inventory, CallbackRegistry registry)
    {
        CheckAccount(inventory, aname);
        string name = CheckServiceName(sname);
        if (!registry.Deregister(aname, name))
        {
            throw ApiException.BadRequest(ErrorCodes.UnexpectedError, $"No listener is registered for service {name} on account {aname}.");
        }

        return Results.Json(new JsonObject { ["accountName"] = aname, ["serviceName"] = name });
    }

    private static void CheckAccount(Inventory inventory, string account)
    {
        lock (inventory.Sync)
        {
            if (!inventory.HasAccount(account))
            {
                throw ApiException.BadRequest(ErrorCodes.AccountNotFound, $"Account '{account}' does not exist.");
            }
        }
    }

    private static string CheckServiceName(string name) =>
        CallbackRegistry.ServiceNames.Contains(name)
            ? name
            : throw ApiException.BadRequest(ErrorCodes.ServiceNameInvalid, $"'{name}' is not a callback service name (e.g. CarrierService, DeviceService, StateService, DeviceUsage).");
}

/// <summary>Endpoint metadata: the operation name used by per-operation fault rates.</summary>
internal sealed record OperationName(string Name);

/// <summary>Resets everything to the start-up state: seed, listeners, sessions, faults, logs.</summary>
internal sealed partial class SimulatorState
{
    private readonly Inventory _inventory;
    private readonly AuthStore _auth;
    private readonly FaultState _faults;
    private readonly CallbackRegistry _registry;
    private readonly DeliveryLog _log;
    private readonly CallbackDispatcher _dispatcher;
    private readonly ActivateRateLimiter _rateLimiter;
    private readonly DeviceApi _api;
    private readonly AsyncProcessor _processor;
    private readonly StatePersistence _persistence;
    private readonly TimeProvider _time;
    private readonly SimulatorOptions _options;
    private readonly ILogger<SimulatorState> _logger;

    public SimulatorState(
        Inventory inventory,
        AuthStore auth,
        FaultState faults,
        CallbackRegistry registry,
        DeliveryLog log,
        CallbackDispatcher dispatcher,
        ActivateRateLimiter rateLimiter,
        DeviceApi api,
        AsyncProcessor processor,
        StatePersistence persistence,
        TimeProvider time,
        IOptions<SimulatorOptions> options,
        ILogger<SimulatorState> logger)
    {
        _inventory = inventory;
        _auth = auth;
        _faults = faults;
        _registry = registry;
        _log = log;
        _dispatcher = dispatcher;
        _rateLimiter = rateLimiter;
        _api = api;
        _processor = processor;
        _persistence = persistence;
        _time = time;
        _options = options.Value;
        _logger = logger;
    }

    /// <summary>At start: the state in the data folder when there is one, else the seed.</summary>
    public void Initialize()
    {
        if (!_persistence.TryLoad())
        {
            Reset(persist: false);
        }
    }

    public void Reset(bool persist = true)
    {
        SeedDocument? seed = _options.SeedFile is { Length: > 0 } path ? Seeding.ReadFile(path) : null;
        lock (_inventory.Sync)
        {
            _inventory.Clear();
            _inventory.AddAccount(_options.DefaultAccount);
            if (seed is not null)
            {
                SeedResult result = Seeding.Apply(_inventory, seed, _time.GetUtcNow(), _options.SeededActiveDays, _options.SeedFile ?? "seed");
                LogSeeded(result.DevicesAdded, result.KnownDevicesAdded, _options.SeedFile ?? string.Empty);
            }

            _processor.Clear();
        }

        _auth.Reset();
        _faults.Reset();
        _registry.Clear();
        _log.Clear();
        _dispatcher.Reset();
        _rateLimiter.Reset();
        _api.Reset();
        if (persist)
        {
            _persistence.WriteNow();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Seeded {Devices} devices and {KnownDevices} known devices from {Path}")]
    private partial void LogSeeded(int devices, int knownDevices, string path);
}
