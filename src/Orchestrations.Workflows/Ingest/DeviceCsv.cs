using System.Net;
using System.Runtime.CompilerServices;
using CsvHelper;
using Orchestrations.ThingSpace.Identifiers;
using Orchestrations.ThingSpace.Models;
using Orchestrations.Workflows.Provisioning.Models;

namespace Orchestrations.Workflows.Ingest;

/// <summary>A rejected row (or, with <see cref="Line"/> 0, the whole file): 1-based line as an editor shows it, column, value, reason.</summary>
public sealed record RejectedRow(int Line, string Column, string Value, string Reason);

/// <summary>What a device file held: the valid devices, every rejected row, or why the whole file was refused.</summary>
public sealed class DeviceCsvResult
{
    /// <summary>Why the file as a whole was refused (bad header, too many rows); nothing from it may be started.</summary>
    public RejectedRow? FileProblem { get; internal set; }

    public List<JobDevice> Devices { get; } = [];

    /// <summary>One entry per problem; a row may have several (see <see cref="RejectedRowCount"/>).</summary>
    public List<RejectedRow> Rejections { get; } = [];

    /// <summary>Data rows read (empty lines not counted).</summary>
    public int Rows { get; internal set; }

    public int RejectedRowCount { get; internal set; }
}

/// <summary>
/// Reads an uploaded device list, streaming (CsvHelper over the blob's stream; the file is never held whole): a header
/// naming identifier kinds (<c>imei</c>, <c>iccid</c>, <c>meid</c>, <c>esn</c>, <c>eid</c>, <c>mdn</c>… any order, any
/// case) and optionally <c>ipAddress</c>, then one device per line. UTF-8 with or without BOM, comma or semicolon
/// (detected), quoted fields, empty lines skipped. Every value is checked with the job request's rules
/// (<see cref="DeviceIdentifier"/>: lengths, digits or hex, Luhn) and against the file's earlier rows (duplicates).
/// </summary>
public static class DeviceCsv
{
    public const string IpAddressColumn = "ipAddress";

    /// <summary>A record longer than this (an unclosed quote, a binary file) makes the file malformed instead of growing the buffer.</summary>
    internal const int MaxRecordBytes = 64 * 1024;

    private static readonly CsvReaderOptions Options = CsvReaderOptions.Default with
    {
        TrackLineNumbers = true,
        SkipEmptyLines = true,
        TrimWhitespace = true,
        MalformedData = CsvMalformedDataHandling.Throw,
        MaxRecordSize = MaxRecordBytes,
        IncludeValuesInExceptions = false,
    };

    /// <summary>
    /// Reads <paramref name="stream"/> to its end, or until it has more than <paramref name="maxRows"/> data rows (then
    /// the file is refused as a whole). Malformed CSV throws <see cref="CsvFormatException"/>.
    /// </summary>
    public static async Task<DeviceCsvResult> ReadAsync(Stream stream, int maxRows, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        DeviceCsvResult result = new();
        CsvReader reader = CsvReader.Create(stream, Options, leaveOpen: true);
        await using ConfiguredAsyncDisposable disposeReader = reader.ConfigureAwait(false);
        await reader.ReadHeaderAsync(cancellationToken).ConfigureAwait(false);
        Column[]? columns = ReadHeader(reader.Headers, out RejectedRow? headerProblem);
        if (columns is null)
        {
            result.FileProblem = headerProblem;
            return result;
        }

        Dictionary<string, int> seen = new(StringComparer.OrdinalIgnoreCase);
        List<RejectedRow> rowProblems = [];
        List<(DeviceIdentifier Id, string Key)> ids = [];
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            int line = checked((int)reader.LineNumber);
            if (IsBlank(reader))
            {
                continue;
            }

            if (++result.Rows > maxRows)
            {
                result.FileProblem = new RejectedRow(line, "", "", $"The file has more than {maxRows} device rows (the limit); nothing was started. Split it into files of at most {maxRows} rows.");
                result.Devices.Clear();
                result.Rejections.Clear();
                return result;
            }

            rowProblems.Clear();
            ids.Clear();
            string? ipAddress = null;
            if (reader.FieldCount > columns.Length)
            {
                rowProblems.Add(new RejectedRow(line, "", "", $"The row has {reader.FieldCount} fields; the header has {columns.Length}."));
            }

            for (int i = 0; i < columns.Length; i++)
            {
                string value = i < reader.FieldCount ? reader.GetString(i) : "";
                Column column = columns[i];
                if (value.Length == 0)
                {
                    continue;
                }

                if (column.Kind is null)
                {
                    if (IPAddress.TryParse(value, out _))
                    {
                        ipAddress = value;
                    }
                    else
                    {
                        rowProblems.Add(new RejectedRow(line, column.Name, value, $"'{value}' is not an IP address."));
                    }

                    continue;
                }

                if (!DeviceIdentifier.TryParse(column.Name, value, out DeviceIdentifier id, out string? reason))
                {
                    rowProblems.Add(new RejectedRow(line, column.Name, value, reason));
                    continue;
                }

                string key = id.ToString();
                if (seen.TryGetValue(key, out int firstLine))
                {
                    rowProblems.Add(new RejectedRow(line, column.Name, value, $"{id.WireKind.ToUpperInvariant()} {id.Value} also appears on line {firstLine}."));
                    continue;
                }

                ids.Add((id, key));
            }

            if (rowProblems.Count == 0 && ids.Count == 0)
            {
                rowProblems.Add(new RejectedRow(line, "", "", "No device identifier in the row."));
            }

            if (rowProblems.Count > 0)
            {
                result.RejectedRowCount++;
                result.Rejections.AddRange(rowProblems);
                continue;
            }

            List<DeviceId> deviceIds = new(ids.Count);
            foreach ((DeviceIdentifier id, string key) in ids)
            {
                seen[key] = line;
                deviceIds.Add(id.ToDeviceId());
            }

            result.Devices.Add(new JobDevice(deviceIds, ipAddress));
        }

        return result;
    }

    private static bool IsBlank(CsvReader reader)
    {
        for (int i = 0; i < reader.FieldCount; i++)
        {
            if (!reader.IsEmpty(i))
            {
                return false;
            }
        }

        return true;
    }

    private static Column[]? ReadHeader(IReadOnlyList<string>? headers, out RejectedRow? problem)
    {
        problem = null;
        if (headers is null || headers.Count == 0 || headers.All(string.IsNullOrWhiteSpace))
        {
            problem = new RejectedRow(1, "", "", "The file has no header row: the first line must name the columns, e.g. imei,iccid.");
            return null;
        }

        Column[] columns = new Column[headers.Count];
        HashSet<string> names = new(StringComparer.OrdinalIgnoreCase);
        for (int i = 0; i < headers.Count; i++)
        {
            string name = headers[i].Trim();
            if (name.Equals(IpAddressColumn, StringComparison.OrdinalIgnoreCase))
            {
                columns[i] = new Column(IpAddressColumn, null);
            }
            else if (DeviceIdentifier.TryParseKind(name, out DeviceIdentifierKind kind))
            {
                columns[i] = new Column(name.ToLowerInvariant(), kind);
            }
            else
            {
                problem = new RejectedRow(1, name, name, name.Length == 0
                    ? $"Header column {i + 1} has no name."
                    : $"Unknown column '{name}': columns are identifier kinds (imei, iccid, meid, esn, eid, mdn, msisdn, min, imsi) and ipAddress.");
                return null;
            }

            if (!names.Add(columns[i].Name))
            {
                problem = new RejectedRow(1, name, name, $"Column '{name}' appears twice in the header.");
                return null;
            }
        }

        if (columns.All(c => c.Kind is null))
        {
            problem = new RejectedRow(1, "", "", "The header names no identifier column (imei, iccid, meid, esn, eid, mdn…).");
            return null;
        }

        return columns;
    }

    private sealed record Column(string Name, DeviceIdentifierKind? Kind);
}
