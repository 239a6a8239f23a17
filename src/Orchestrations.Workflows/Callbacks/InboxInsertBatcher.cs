using System.Threading.Channels;
using Azure;
using Azure.Data.Tables;

namespace Orchestrations.Workflows.Callbacks;

/// <summary>
/// Group commit for the callback inbox: rows that arrive while a write is in flight go out together, one entity-group
/// transaction (at most 100 rows and about 2 MB) per request, and each caller is answered once its own row is durable
/// (or known to exist already). A lone row is written at once, so nothing waits for a batch to fill. A transaction that
/// fails because one row exists already (ThingSpace re-sent a message) answers that row "duplicate" and sends the rest
/// again; any other failure is every waiting caller's failure, so each of them answers ThingSpace with an error and it
/// sends again. On Azurite every insert costs a request and a scan of its partition: rows written in one transaction
/// share both.
/// </summary>
internal sealed class InboxInsertBatcher : IAsyncDisposable
{
    /// <summary>An entity-group transaction takes at most 100 rows.</summary>
    internal const int MaxRows = 100;

    /// <summary>Rows taken from the queue per round (the round's transactions run side by side).</summary>
    private const int MaxRowsPerRound = 2_000;

    /// <summary>A transaction's body may not exceed 4 MiB; rows are estimated at two bytes per character.</summary>
    private const long MaxBytes = 2L * 1024 * 1024;

    private readonly TableClient _table;
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _writer;

    public InboxInsertBatcher(TableClient table)
    {
        _table = table;
        _writer = Task.Run(WriteLoopAsync);
    }

    /// <summary>Inserts <paramref name="row"/>: true once it is stored, false when a row with its keys existed already.</summary>
    public Task<bool> InsertAsync(TableEntity row, long estimatedBytes, CancellationToken cancellationToken)
    {
        Pending pending = new(row, estimatedBytes);
        ObjectDisposedException.ThrowIf(!_queue.Writer.TryWrite(pending), this);

        return pending.Stored.Task.WaitAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _writer.ConfigureAwait(false);
    }

    /// <summary>Splits a round's rows into transactions: by request, at most <see cref="MaxRows"/> and <see cref="MaxBytes"/>, no row key twice.</summary>
    internal static List<List<TableEntity>> Plan(IEnumerable<(TableEntity Row, long Bytes)> rows)
    {
        List<List<TableEntity>> transactions = [];
        foreach (IGrouping<string, (TableEntity Row, long Bytes)> partition in rows.GroupBy(r => r.Row.PartitionKey, StringComparer.Ordinal))
        {
            List<(List<TableEntity> Rows, HashSet<string> Keys, long Bytes)> open = [];
            foreach ((TableEntity row, long bytes) in partition)
            {
                // The first open transaction with room that does not hold this row key yet (a re-sent message goes to a later one).
                int slot = open.FindIndex(t => t.Rows.Count < MaxRows && (t.Rows.Count == 0 || t.Bytes + bytes <= MaxBytes) && !t.Keys.Contains(row.RowKey));
                if (slot < 0)
                {
                    open.Add(([], new HashSet<string>(StringComparer.Ordinal), 0));
                    slot = open.Count - 1;
                }

                (List<TableEntity> list, HashSet<string> keys, long total) = open[slot];
                list.Add(row);
                keys.Add(row.RowKey);
                open[slot] = (list, keys, total + bytes);
            }

            transactions.AddRange(open.Select(t => t.Rows));
        }

        return transactions;
    }

    private async Task WriteLoopAsync()
    {
        ChannelReader<Pending> reader = _queue.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            List<Pending> round = [];
            while (round.Count < MaxRowsPerRound && reader.TryRead(out Pending? pending))
            {
                round.Add(pending);
            }

            Dictionary<TableEntity, Pending> byRow = new(ReferenceEqualityComparer.Instance);
            round.ForEach(p => byRow.Add(p.Row, p));
            List<List<TableEntity>> transactions = Plan(round.Select(p => (p.Row, p.Bytes)));

            // Transactions of one request run one after the other (a re-sent row must find the first one stored).
            await Task.WhenAll(transactions.GroupBy(t => t[0].PartitionKey, StringComparer.Ordinal).Select(async partition =>
            {
                foreach (List<TableEntity> transaction in partition)
                {
                    await WriteAsync([.. transaction.Select(r => byRow[r])]).ConfigureAwait(false);
                }
            })).ConfigureAwait(false);
        }
    }

    /// <summary>Writes one transaction; never throws: every row's caller gets its answer or the failure.</summary>
    private async Task WriteAsync(List<Pending> rows)
    {
        while (rows.Count > 0)
        {
            try
            {
                if (rows.Count == 1)
                {
                    await _table.AddEntityAsync(rows[0].Row).ConfigureAwait(false);
                }
                else
                {
                    await _table.SubmitTransactionAsync(rows.Select(p => new TableTransactionAction(TableTransactionActionType.Add, p.Row))).ConfigureAwait(false);
                }

                rows.ForEach(p => p.Stored.TrySetResult(true));
                return;
            }
            catch (TableTransactionFailedException ex) when (ex.Status == 409 && ex.FailedTransactionActionIndex is int failed && failed >= 0 && failed < rows.Count)
            {
                rows[failed].Stored.TrySetResult(false); // it exists: the rest go again without it
                rows.RemoveAt(failed);
            }
            catch (RequestFailedException ex) when (ex.Status == 409 && rows.Count == 1)
            {
                rows[0].Stored.TrySetResult(false);
                return;
            }
            catch (TableTransactionFailedException)
            {
                // A conflict the service did not pin to one row: each row on its own.
                await Task.WhenAll(rows.Select(p => WriteAsync([p]))).ConfigureAwait(false);
                return;
            }
            catch (Exception ex)
            {
                rows.ForEach(p => p.Stored.TrySetException(ex));
                return;
            }
        }
    }

    private sealed class Pending(TableEntity row, long bytes)
    {
        public TableEntity Row { get; } = row;

        public long Bytes { get; } = bytes;

        public TaskCompletionSource<bool> Stored { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
