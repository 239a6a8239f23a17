using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Orchestrations.Testing;

/// <summary>
/// Runs one of the solution's apps (built output of <c>src/{project}</c>) as a real child process on a free
/// loopback port, captures its output, and stops it with SIGTERM (or kills it, for crash tests).
/// </summary>
public sealed class AppProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private AppProcess(Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
    }

    public Uri BaseAddress { get; }

    /// <summary>The process id (benchmarks read its memory from /proc).</summary>
    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

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

    /// <summary>The assembly path of a src project, built in the same configuration as the running tests.</summary>
    public static string AssemblyPath(string projectName)
    {
        // Tests run from tests/{project}/bin/{configuration}/net10.0.
        string configuration = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent?.Name ?? "Debug";
        string path = Path.Combine(RepositoryPaths.RepositoryRoot, "src", projectName, "bin", configuration, "net10.0", projectName + ".dll");
        return File.Exists(path)
            ? path
            : throw new FileNotFoundException($"{projectName} is not built in {configuration}; build the solution first.", path);
    }

    public static int FreeLoopbackPort()
    {
        TcpListener listener = new(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        finally
        {
            listener.Stop();
        }
    }

    /// <summary>Starts the app and returns once <paramref name="readyPath"/> answers 200 (or throws with the app's output).</summary>
    public static async Task<AppProcess> StartAsync(
        string projectName,
        IReadOnlyDictionary<string, string> environment,
        string readyPath,
        int? port = null,
        TimeSpan? timeout = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(environment);
        int chosen = port ?? FreeLoopbackPort();
        Uri baseAddress = new($"http://127.0.0.1:{chosen}/");
        ProcessStartInfo start = new("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(AssemblyPath(projectName))!,
        };
        start.ArgumentList.Add(AssemblyPath(projectName));
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add(baseAddress.ToString().TrimEnd('/'));
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Testing";
        foreach (KeyValuePair<string, string> pair in environment)
        {
            start.Environment[pair.Key] = pair.Value;
        }

        Process process = new() { StartInfo = start, EnableRaisingEvents = true };
        AppProcess app = new(process, baseAddress);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await app.WaitUntilReadyAsync(readyPath, timeout ?? TimeSpan.FromSeconds(60), cancellationToken).ConfigureAwait(false);
            return app;
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task WaitUntilReadyAsync(string readyPath, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using CancellationTokenSource deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        using HttpClient http = new() { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        HttpStatusCode? last = null;
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The app exited with code {_process.ExitCode} before {readyPath} answered. Output:\n{Output}");
            }

            try
            {
                using HttpResponseMessage response = await http.GetAsync(new Uri(readyPath, UriKind.Relative), deadline.Token).ConfigureAwait(false);
                last = response.StatusCode;
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"{readyPath} did not answer 200 within {timeout.TotalSeconds:0} s (last: {last?.ToString() ?? "no answer"}). Output:\n{Output}");
            }
            catch (TaskCanceledException) when (!deadline.IsCancellationRequested)
            {
            }

            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100), deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"{readyPath} did not answer 200 within {timeout.TotalSeconds:0} s (last: {last?.ToString() ?? "no answer"}). Output:\n{Output}");
            }
        }
    }

    /// <summary>Graceful stop (SIGTERM); returns the exit code.</summary>
    public async Task<int> StopAsync(TimeSpan? grace = null)
    {
        await ProcessTermination.StopAsync(_process, grace ?? TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        return _process.ExitCode;
    }

    /// <summary>Crash: SIGKILL with no chance to clean up.</summary>
    public Task KillAsync() => ProcessTermination.KillAsync(_process);

    public async ValueTask DisposeAsync()
    {
        await ProcessTermination.StopAsync(_process, TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            if (_output.Length < 256 * 1024)
            {
                _output.AppendLine(line);
            }
        }
    }
}
