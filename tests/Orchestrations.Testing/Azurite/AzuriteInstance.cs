using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Orchestrations.Testing.Azurite;

/// <summary>
/// A private Azurite process: the pinned npm package (installed with <c>npm ci</c> when missing), three free
/// loopback ports, a fresh data folder, and a stop that escalates from SIGTERM to SIGKILL.
/// Flags follow architecture section 6: never in-memory persistence, always <c>--disableTelemetry</c>.
/// </summary>
public sealed class AzuriteInstance : IAsyncDisposable
{
    /// <summary>The well-known development account key Azurite accepts (public, not a secret).</summary>
    public const string AccountName = "devstoreaccount1";
    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    /// <summary>Every data folder lives under this marker so the test script can find stray processes.</summary>
    public const string DataRootName = "orchestrations-azurite";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan GracefulStopTimeout = TimeSpan.FromSeconds(5);

    private readonly Process _process;
    private readonly StringBuilder _output;

    private AzuriteInstance(Process process, StringBuilder output, string dataFolder, int blobPort, int queuePort, int tablePort)
    {
        _process = process;
        _output = output;
        DataFolder = dataFolder;
        BlobPort = blobPort;
        QueuePort = queuePort;
        TablePort = tablePort;
    }

    public string DataFolder { get; }

    public int BlobPort { get; }

    public int QueuePort { get; }

    public int TablePort { get; }

    public int ProcessId => _process.Id;

    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={AccountKey};" +
        $"BlobEndpoint=http://127.0.0.1:{BlobPort}/{AccountName};" +
        $"QueueEndpoint=http://127.0.0.1:{QueuePort}/{AccountName};" +
        $"TableEndpoint=http://127.0.0.1:{TablePort}/{AccountName};";

    /// <summary>What Azurite printed so far (for failure messages).</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static async Task<AzuriteInstance> StartAsync(CancellationToken cancellationToken = default)
    {
        string script = await AzuriteInstallation.EnsureInstalledAsync(cancellationToken).ConfigureAwait(false);

        // A port picked free can be taken before Azurite binds it; a few attempts make that race harmless.
        Exception? last = null;
        for (int attempt = 0; attempt < 3; attempt++)
        {
            try
            {
                return await StartOnceAsync(script, cancellationToken).ConfigureAwait(false);
            }
            catch (AzuriteStartException ex)
            {
                last = ex;
            }
        }

        throw new InvalidOperationException("Azurite did not start after 3 attempts.", last);
    }

    private static async Task<AzuriteInstance> StartOnceAsync(string script, CancellationToken cancellationToken)
    {
        int[] ports = FreeLoopbackPorts(3);
        string dataFolder = Path.Combine(Path.GetTempPath(), DataRootName, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dataFolder);

        ProcessStartInfo start = new("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = dataFolder,
        };
        foreach (string arg in new[]
        {
            script,
            "--silent",
            "--location", dataFolder,
            "--blobHost", "127.0.0.1", "--blobPort", ports[0].ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--queueHost", "127.0.0.1", "--queuePort", ports[1].ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--tableHost", "127.0.0.1", "--tablePort", ports[2].ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--skipApiVersionCheck",
            "--disableTelemetry",
        })
        {
            start.ArgumentList.Add(arg);
        }

        StringBuilder output = new();
        Process process = new() { StartInfo = start, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        if (!process.Start())
        {
            throw new AzuriteStartException("node could not be started.");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        AzuriteInstance instance = new(process, output, dataFolder, ports[0], ports[1], ports[2]);
        try
        {
            await instance.WaitUntilListeningAsync(cancellationToken).ConfigureAwait(false);
            return instance;
        }
        catch
        {
            await instance.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task WaitUntilListeningAsync(CancellationToken cancellationToken)
    {
        using CancellationTokenSource deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(StartTimeout);
        using HttpClient http = new() { Timeout = TimeSpan.FromSeconds(5) };
        foreach (int port in new[] { BlobPort, QueuePort, TablePort })
        {
            while (true)
            {
                if (_process.HasExited)
                {
                    throw new AzuriteStartException($"Azurite exited with code {_process.ExitCode} before port {port} answered. Output:\n{Output}");
                }

                try
                {
                    // Any HTTP answer (even 400) means the endpoint is up.
                    using HttpResponseMessage response = await http.GetAsync(new Uri($"http://127.0.0.1:{port}/{AccountName}"), deadline.Token).ConfigureAwait(false);
                    break;
                }
                catch (HttpRequestException)
                {
                }
                catch (TaskCanceledException) when (!deadline.IsCancellationRequested)
                {
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new AzuriteStartException($"Azurite port {port} did not answer within {StartTimeout.TotalSeconds:0} s. Output:\n{Output}");
                }

                // Poll with a short, deadline-bounded pause between attempts.
                await Task.Delay(TimeSpan.FromMilliseconds(100), deadline.Token).ConfigureAwait(false);
            }
        }
    }

    /// <summary>SIGTERM, then SIGKILL after a few seconds (a busy Azurite can ignore SIGTERM); then the data folder goes.</summary>
    public async ValueTask DisposeAsync()
    {
        await ProcessTermination.StopAsync(_process, GracefulStopTimeout).ConfigureAwait(false);
        _process.Dispose();
        try
        {
            Directory.Delete(DataFolder, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: the folder is under the temp root and removed by the test script as well.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static void Append(StringBuilder output, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            if (output.Length < 64 * 1024)
            {
                output.AppendLine(line);
            }
        }
    }

    private static int[] FreeLoopbackPorts(int count)
    {
        List<TcpListener> listeners = [];
        try
        {
            for (int i = 0; i < count; i++)
            {
                TcpListener listener = new(IPAddress.Loopback, 0);
                listener.Start();
                listeners.Add(listener);
            }

            return [.. listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port)];
        }
        finally
        {
            foreach (TcpListener listener in listeners)
            {
                listener.Stop();
            }
        }
    }

    private sealed class AzuriteStartException(string message) : Exception(message);
}
