using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Orchestrations.ThingSpace.Auth;
using Orchestrations.ThingSpace.Client;
using Polly;
using Polly.Retry;

namespace Orchestrations.ThingSpace;

/// <summary>Registers the ThingSpace client.</summary>
public static class ThingSpaceServiceCollectionExtensions
{
    /// <summary>The configuration section of the standard resilience pipeline (HttpStandardResilienceOptions).</summary>
    public const string ResilienceSectionName = ThingSpaceOptions.SectionName + ":Resilience";

    /// <summary>
    /// Registers <see cref="IThingSpaceClient"/>: options from section <c>ThingSpace</c> (validated at start-up), the
    /// standard resilience pipeline (section <c>ThingSpace:Resilience</c>; retries only operations flagged
    /// idempotent), and inside each attempt the <c>VZ-M2M-Token</c> session handler and, innermost, the OAuth bearer handler.
    /// Time comes from the registered <see cref="TimeProvider"/> (system clock if none).
    /// </summary>
    public static IServiceCollection AddThingSpaceClient(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        // "ThingSpace": { "BaseUrl": "https://thingspace.verizon.com/api",
        //   "OAuthUrl": "https://thingspace.verizon.com/api/ts/v1/oauth2/token", "AppKey": "…", "AppSecret": "…",
        //   "Username": "…", "Password": "…", "AccountName": "0000123456-00001",
        //   "Resilience": { "Retry": { "MaxRetryAttempts": 3 }, "TotalRequestTimeout": { "Timeout": "00:00:30" } } }
        services.AddOptions<ThingSpaceOptions>()
            .Bind(configuration.GetSection(ThingSpaceOptions.SectionName))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ThingSpaceOptions>, ThingSpaceOptionsValidator>());

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<OAuthTokenProvider>();
        services.TryAddSingleton<M2MSessionProvider>();
        services.TryAddTransient<ThingSpaceOAuthHandler>();
        services.TryAddTransient<M2MSessionHandler>();

        // OAuth token endpoint: a safe request, so the standard pipeline may retry it.
        // HttpClient's own logs carry request headers (Authorization, VZ-M2M-Token): their formatted text can be
        // redacted, but their structured state still holds the raw values. So these clients drop the default
        // HttpClient loggers (this library logs each operation itself) and redact headers should one be re-added.
        IConfigurationSection resilience = configuration.GetSection(ResilienceSectionName);
        IHttpClientBuilder oauth = services.AddHttpClient(OAuthTokenProvider.HttpClientName)
            .RemoveAllLoggers()
            .RedactLoggedHeaders(static _ => true);
        AddResilience(oauth, resilience);

        // Session login: never retried (5 failed logins lock the account), but carries the bearer token.
        services.AddHttpClient(M2MSessionProvider.HttpClientName)
            .RemoveAllLoggers()
            .RedactLoggedHeaders(static _ => true)
            .AddHttpMessageHandler<ThingSpaceOAuthHandler>();

        // Device management: resilience outermost, then the auth handlers inside each attempt.
        IHttpClientBuilder http = services.AddHttpClient<IThingSpaceClient, ThingSpaceClient>(ThingSpaceClient.HttpClientName)
            .RemoveAllLoggers()
            .RedactLoggedHeaders(static _ => true);
        AddResilience(http, resilience).Configure(options => options.Retry.ShouldHandle = ShouldRetry);
        http.AddHttpMessageHandler<M2MSessionHandler>();
        http.AddHttpMessageHandler<ThingSpaceOAuthHandler>();
        return services;
    }

    // The section is optional: without it the standard defaults apply (binding an absent section would throw).
    private static IHttpStandardResiliencePipelineBuilder AddResilience(IHttpClientBuilder builder, IConfigurationSection section) =>
        section.Exists() ? builder.AddStandardResilienceHandler(section) : builder.AddStandardResilienceHandler();

    /// <summary>Retries transient outcomes (408, 429, 5xx, connection errors, attempt time-outs) of idempotent operations only.</summary>
    internal static ValueTask<bool> ShouldRetry(RetryPredicateArguments<HttpResponseMessage> args)
    {
        HttpRequestMessage? request = args.Context.GetRequestMessage() ?? args.Outcome.Result?.RequestMessage;
        ThingSpaceOperation? operation = ThingSpaceOperation.Of(request);
        if (operation is null || !operation.Idempotent)
        {
            return ValueTask.FromResult(false);
        }

        return ValueTask.FromResult(HttpClientResiliencePredicates.IsTransient(args.Outcome));
    }
}
