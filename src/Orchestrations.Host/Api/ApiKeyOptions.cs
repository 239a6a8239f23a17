using System.ComponentModel.DataAnnotations;

namespace Orchestrations.Host.Api;

/// <summary>
/// API keys accepted on management routes, like Functions' function keys.
/// <code>
/// "Api": { "Keys": [ "key-one", "key-two" ] }      // local.settings.json Values: "Api__Keys__0": "key-one"
/// </code>
/// </summary>
public sealed class ApiKeyOptions
{
    public const string SectionName = "Api";

    /// <summary>Keys shorter than this are rejected at start-up: a guessable key is no key.</summary>
    public const int MinimumKeyLength = 16;

    [Required]
    [MinLength(1, ErrorMessage = "Api:Keys must hold at least one key (local.settings.json: \"Api__Keys__0\").")]
    public IList<string> Keys { get; init; } = [];
}

internal sealed class ApiKeyOptionsValidator : Microsoft.Extensions.Options.IValidateOptions<ApiKeyOptions>
{
    public Microsoft.Extensions.Options.ValidateOptionsResult Validate(string? name, ApiKeyOptions options)
    {
        List<string> failures = [];
        if (options.Keys.Count == 0)
        {
            failures.Add("Api:Keys must hold at least one key (local.settings.json: \"Api__Keys__0\").");
        }

        for (int i = 0; i < options.Keys.Count; i++)
        {
            string key = options.Keys[i];
            if (string.IsNullOrWhiteSpace(key) || key.Length < ApiKeyOptions.MinimumKeyLength)
            {
                // Never echo the key itself.
                failures.Add($"Api:Keys:{i} must be at least {ApiKeyOptions.MinimumKeyLength} characters long.");
            }
        }

        return failures.Count == 0
            ? Microsoft.Extensions.Options.ValidateOptionsResult.Success
            : Microsoft.Extensions.Options.ValidateOptionsResult.Fail(failures);
    }
}
