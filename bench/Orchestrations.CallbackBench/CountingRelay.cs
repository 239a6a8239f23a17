using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Orchestrations.Testing.Benchmarks;

namespace Orchestrations.CallbackBench;

/// <summary>
/// A loopback TCP relay in front of Azurite's table port that counts the HTTP/1.1 requests passing through by method
/// and table (<c>"POST HostCallbacks64"</c>), for a host running in another process. It reads only the request framing
/// (request line, <c>Content-Length</c>); answers are copied back untouched. Chunked request bodies are not expected
/// (the Azure SDK sends a length) and end the connection.
/// </summary>
internal sealed class CountingRelay : IAsyncDisposable
{
    private static readonly byte[] HeaderEnd = "\r\n\r\n"u8.ToArray();

    private readonly TcpListener _listener;
    private readonly int _targetPort;
    private readonly Tally _tally;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;

    private CountingRelay(TcpListener listener, int targetPort, Tally tally)
    {
        _listener = listener;
        _targetPort = targetPort;
        _tally = tally;
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public static CountingRelay Start(int targetPort, Tally tally)
    {
        TcpListener listener = new(IPAddress.Loopback, 0);
        listener.Start();
        return new CountingRelay(listener, targetPort, tally);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _accepting;
        }
        catch (OperationCanceledException)
        {
        }
        catch (SocketException)
        {
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client = await _listener.AcceptTcpClientAsync(_stop.Token);
            _ = RelayAsync(client);
        }
    }

    private async Task RelayAsync(TcpClient client)
    {
        using (client)
        using (TcpClient upstream = new())
        {
            try
            {
                client.NoDelay = true;
                upstream.NoDelay = true;
                await upstream.ConnectAsync(IPAddress.Loopback, _targetPort, _stop.Token);
                NetworkStream down = client.GetStream();
                NetworkStream up = upstream.GetStream();
                Task requests = CopyRequestsAsync(down, up);
                Task answers = up.CopyToAsync(down, _stop.Token);
                await Task.WhenAny(requests, answers);
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException)
            {
                // A connection closed by either side (or the relay stopping) ends its relay.
            }
        }
    }

    private async Task CopyRequestsAsync(Stream from, Stream to)
    {
        byte[] buffer = new byte[256 * 1024];
        int filled = 0;
        while (true)
        {
            int end;
            while ((end = buffer.AsSpan(0, filled).IndexOf(HeaderEnd)) < 0)
            {
                if (filled == buffer.Length)
                {
                    return; // headers larger than the buffer: not a request this relay understands
                }

                int read = await from.ReadAsync(buffer.AsMemory(filled), _stop.Token);
                if (read == 0)
                {
                    return;
                }

                filled += read;
            }

            int headerLength = end + HeaderEnd.Length;
            string headers = Encoding.ASCII.GetString(buffer, 0, headerLength);
            long bodyLength = Count(headers);
            if (bodyLength < 0)
            {
                return;
            }

            await to.WriteAsync(buffer.AsMemory(0, headerLength), _stop.Token);
            int buffered = (int)Math.Min(bodyLength, filled - headerLength);
            await to.WriteAsync(buffer.AsMemory(headerLength, buffered), _stop.Token);
            long remaining = bodyLength - buffered;
            int consumed = headerLength + buffered;
            Buffer.BlockCopy(buffer, consumed, buffer, 0, filled - consumed);
            filled -= consumed;
            while (remaining > 0)
            {
                int read = await from.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, remaining)), _stop.Token);
                if (read == 0)
                {
                    return;
                }

                await to.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
                remaining -= read;
            }
        }
    }

    /// <summary>Counts one request by method and table; returns its body length (-1 for a chunked body).</summary>
    private long Count(string headers)
    {
        string[] lines = headers.Split("\r\n");
        string[] requestLine = lines[0].Split(' ');
        string method = requestLine[0];
        string path = requestLine.Length > 1 ? requestLine[1] : "";
        int query = path.IndexOf('?', StringComparison.Ordinal);
        path = query < 0 ? path : path[..query];
        string last = path[(path.LastIndexOf('/') + 1)..];
        int key = last.IndexOf('(', StringComparison.Ordinal);
        string table = key < 0 ? last : last[..key];
        _tally.Count($"{method} {Uri.UnescapeDataString(table)}{(key < 0 ? "" : " entity")}");

        long length = 0;
        foreach (string line in lines.Skip(1))
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0)
            {
                continue;
            }

            string name = line[..colon].Trim();
            string value = line[(colon + 1)..].Trim();
            if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                length = long.Parse(value, CultureInfo.InvariantCulture);
            }
            else if (name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase) && value.Contains("chunked", StringComparison.OrdinalIgnoreCase))
            {
                return -1;
            }
        }

        return length;
    }
}
