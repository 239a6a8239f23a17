using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace Orchestrations.Durable.Hosting;

/// <summary>
/// The logger factory handed to DTFx and the SDK shims. DTFx logs every queue message and history write at
/// Information; unless <c>Logging:LogLevel</c> names a <c>DurableTask</c> or <c>Microsoft.DurableTask</c> category,
/// their logs below Warning are dropped so a host at Information stays readable.
/// </summary>
internal sealed class DurableTaskLoggerFactory : ILoggerFactory
{
    private static readonly string[] EngineCategories = ["DurableTask.", "Microsoft.DurableTask"];

    private readonly ILoggerFactory _inner;
    private readonly LogLevel _engineMinimum;

    public DurableTaskLoggerFactory(ILoggerFactory inner, IConfiguration configuration)
    {
        _inner = inner;
        bool configured = configuration.GetSection("Logging:LogLevel").GetChildren()
            .Any(c => c.Key.StartsWith("DurableTask", StringComparison.OrdinalIgnoreCase)
                || c.Key.StartsWith("Microsoft.DurableTask", StringComparison.OrdinalIgnoreCase));
        _engineMinimum = configured ? LogLevel.Trace : LogLevel.Warning;
    }

    public ILogger CreateLogger(string categoryName)
    {
        ILogger logger = _inner.CreateLogger(categoryName);
        return _engineMinimum > LogLevel.Trace && EngineCategories.Any(p => categoryName.StartsWith(p, StringComparison.Ordinal))
            ? new MinimumLevelLogger(logger, _engineMinimum)
            : logger;
    }

    public void AddProvider(ILoggerProvider provider) => _inner.AddProvider(provider);

    /// <summary>The host owns the inner factory.</summary>
    public void Dispose()
    {
    }

    private sealed class MinimumLevelLogger(ILogger inner, LogLevel minimum) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum && inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                inner.Log(logLevel, eventId, state, exception, formatter);
            }
        }
    }
}
