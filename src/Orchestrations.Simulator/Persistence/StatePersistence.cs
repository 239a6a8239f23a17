using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;

namespace Orchestrations.Simulator;

/// <summary>Everything the simulator keeps in its data folder (<c>state.json</c>).</summary>
internal sealed record SimulatorSnapshot(
    int Version,
    DateTimeOffset SavedAt,
    InventoryRecord Inventory,
    List<CallbackRegistration> Listeners,
    AuthRecord Auth,
    List<PendingRequestRecord> PendingRequests,
    List<OutgoingCallbackRecord> Callbacks);

/// <summary>Source-generated serializer of the snapshot (no reflection: a 10,000-device snapshot is written often).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(SimulatorSnapshot))]
internal sealed partial class SnapshotJsonContext : JsonSerializerContext;

/// <summary>
/// Keeps the simulator's state in <c>Simulator:DataDirectory</c> (off when unset): accounts, devices, known hardware,
/// listeners, sessions, requests whose callbacks are not produced yet and callback messages not yet
/// delivered. A snapshot is written at most every <c>PersistIntervalMs</c> after a change and on shutdown, to a
/// temporary file that then replaces <c>state.json</c> (a rename: a reader sees the old or the new file, never a
/// partial one). Loaded at start instead of the seed when present. Fault settings are not kept: a start uses the
/// configured ones.
/// </summary>
internal sealed partial class StatePersistence : BackgroundService
{
    public const string FileName = "state.json";
    private const int FormatVersion = 1;

    private readonly SimulatorOptions _options;
    private readonly Inventory _inventory;
    private readonly AuthStore _auth;
    private readonly CallbackRegistry _registry;
    private readonly CallbackDispatcher _dispatcher;
    private readonly AsyncProcessor _processor;
    private readonly DeviceApi _api;
    private readonly StateChanges _changes;
    private readonly TimeProvider _time;
    private readonly ILogger<StatePersistence> _logger;
    private readonly Lock _writeSync = new();
    private long _writes;
    private long _writeTicks;
    private TimeSpan _lastWrite;

    public StatePersistence(
        IOptions<SimulatorOptions> options,
        Inventory inventory,
        AuthStore auth,
        CallbackRegistry registry,
        CallbackDispatcher dispatcher,
        AsyncProcessor processor,
        DeviceApi api,
        StateChanges changes,
        TimeProvider time,
        ILogger<StatePersistence> logger)
    {
        _options = options.Value;
        _inventory = inventory;
        _auth = auth;
        _registry = registry;
        _dispatcher = dispatcher;
        _processor = processor;
        _api = api;
        _changes = changes;
        _time = time;
        _logger = logger;
    }

    public bool Enabled => !string.IsNullOrWhiteSpace(_options.DataDirectory);

    public string? FilePath => Enabled ? Path.Combine(Path.GetFullPath(_options.DataDirectory!), FileName) : null;

    /// <summary>Snapshots written so far and the total time they took (capture, serialization and rename).</summary>
    public (long Writes, TimeSpan Total) Statistics => (Interlocked.Read(ref _writes), Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _writeTicks)));

    /// <summary>Loads <c>state.json</c> when persistence is on and the file exists; false otherwise (then the seed applies).</summary>
    public bool TryLoad()
    {
        if (FilePath is not { } path || !File.Exists(path))
        {
            return false;
        }

        SimulatorSnapshot snapshot;
        try
        {
            using FileStream stream = File.OpenRead(path);
            snapshot = JsonSerializer.Deserialize(stream, SnapshotJsonContext.Default.SimulatorSnapshot)
                ?? throw new InvalidOperationException("the file holds null");
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or NotSupportedException)
        {
            throw new InvalidOperationException($"Simulator state '{path}' cannot be read ({ex.Message}). Delete the file to start from the seed.", ex);
        }

        if (snapshot.Version != FormatVersion)
        {
            throw new InvalidOperationException($"Simulator state '{path}' has format version {snapshot.Version}; this simulator reads {FormatVersion}. Delete the file to start from the seed.");
        }

        _auth.Import(snapshot.Auth);
        _registry.Import(snapshot.Listeners);
        int resumed = 0, failed = 0;
        List<(PendingRequestRecord Record, List<PlannedCallback> Planned)> requests = [];
        lock (_inventory.Sync)
        {
            _inventory.Import(snapshot.Inventory);
            foreach (PendingRequestRecord request in snapshot.PendingRequests)
            {
                List<PlannedCallback> planned = [];
                foreach (PlannedCallbackRecord item in request.Planned)
                {
                    PlannedCallback? again = item.Resume is null ? null : _api.Resume(item.Resume);
                    if (again is null)
                    {
                        failed++;
                        again = new PlannedCallback(item.ServiceName, item.DeviceIds, _ => DeviceOutcome.Fault(ErrorCodes.UnexpectedError, "REQUEST_FAILED. The simulator restarted before this request completed"));
                    }
                    else
                    {
                        resumed++;
                    }

                    planned.Add(again);
                }

                requests.Add((request, planned));
            }
        }

        foreach (OutgoingCallbackRecord message in snapshot.Callbacks)
        {
            _dispatcher.Enqueue(OutgoingCallback.FromRecord(message));
        }

        foreach ((PendingRequestRecord record, List<PlannedCallback> planned) in requests)
        {
            _processor.Resume(record, planned);
        }

        LogLoaded(path, snapshot.Inventory.Devices.Count, snapshot.Inventory.Known.Count, snapshot.Listeners.Count, snapshot.PendingRequests.Count, snapshot.Callbacks.Count, snapshot.SavedAt);
        if (failed > 0)
        {
            LogNotResumable(failed);
        }

        return true;
    }

    /// <summary>Writes the snapshot now (no-op when persistence is off).</summary>
    public void WriteNow()
    {
        if (FilePath is not { } path)
        {
            return;
        }

        lock (_writeSync)
        {
            long started = Stopwatch.GetTimestamp();
            _changes.TakeDirty();
            SimulatorSnapshot snapshot;
            long locked;
            lock (_inventory.Sync)
            {
                locked = Stopwatch.GetTimestamp();
                snapshot = new SimulatorSnapshot(
                    FormatVersion,
                    _time.GetUtcNow(),
                    _inventory.Export(),
                    _registry.Export(),
                    _auth.Export(),
                    _processor.Export(),
                    _dispatcher.Export());
            }

            long captured = Stopwatch.GetTimestamp();
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            string temporary = path + ".tmp";
            using (FileStream stream = new(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
            {
                // Flushed to the OS, not fsync'ed: the rename protects against a crash of the process (the case
                // here); a power cut may lose the last snapshots, which is fine for a simulator.
                JsonSerializer.Serialize(stream, snapshot, SnapshotJsonContext.Default.SimulatorSnapshot);
                stream.Flush();
            }

            File.Move(temporary, path, overwrite: true);
            Interlocked.Increment(ref _writes);
            Interlocked.Add(ref _writeTicks, Stopwatch.GetTimestamp() - started);
            _lastWrite = Stopwatch.GetElapsedTime(started);
            if (_logger.IsEnabled(LogLevel.Debug))
            {
                double elapsedMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                double captureMs = Stopwatch.GetElapsedTime(locked, captured).TotalMilliseconds;
                LogWritten(path, snapshot.Inventory.Devices.Count, snapshot.PendingRequests.Count, snapshot.Callbacks.Count, elapsedMs, captureMs);
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!Enabled)
        {
            return;
        }

        LogEnabled(FilePath!, _options.PersistIntervalMs);
        TimeSpan interval = TimeSpan.FromMilliseconds(_options.PersistIntervalMs);
        try
        {
            while (true)
            {
                await _changes.WaitAsync(stoppingToken);

                // At most one snapshot per interval, and never more than a fifth of the time spent writing.
                TimeSpan wait = interval > TimeSpan.Zero ? TimeSpan.FromTicks(Math.Max(interval.Ticks, _lastWrite.Ticks * 4)) : TimeSpan.Zero;
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, _time, stoppingToken);
                }

                try
                {
                    WriteNow();
                }
                catch (IOException ex)
                {
                    LogWriteFailed(ex, FilePath!);
                }
                catch (UnauthorizedAccessException ex)
                {
                    LogWriteFailed(ex, FilePath!);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: the final snapshot is written by StopAsync.
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (Enabled)
        {
            WriteNow();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Simulator state is kept in {Path} (written at most every {IntervalMs} ms after a change, and on shutdown)")]
    private partial void LogEnabled(string path, int intervalMs);

    [LoggerMessage(Level = LogLevel.Information, Message = "Restored state from {Path} (saved {SavedAt:o}): {Devices} devices, {Known} known identifiers, {Listeners} listeners, {Requests} pending requests, {Callbacks} callback messages to send")]
    private partial void LogLoaded(string path, int devices, int known, int listeners, int requests, int callbacks, DateTimeOffset savedAt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} pending device callback(s) could not be planned again after the restart; they will report REQUEST_FAILED.UnexpectedError")]
    private partial void LogNotResumable(int count);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Wrote {Path}: {Devices} devices, {Requests} pending requests, {Callbacks} callback messages in {ElapsedMs} ms ({CaptureMs} ms of it holding the inventory lock)")]
    private partial void LogWritten(string path, int devices, int requests, int callbacks, double elapsedMs, double captureMs);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not write the simulator state to {Path}; retrying at the next change")]
    private partial void LogWriteFailed(Exception exception, string path);
}
