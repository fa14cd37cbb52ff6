/** Every output format of an assessment, by name; JSON is the report itself. */
import type {AssessReport} from '../report.js'
import {renderHtml} from './html.js'
import {renderMarkdown} from './markdown.js'
import {renderTerminal} from './terminal.js'

export const ASSESS_FORMATS = ['table', 'json', 'markdown', 'html'] as const
export type AssessFormat = (typeof ASSESS_FORMATS)[number]

export function renderReport(report: AssessReport, format: AssessFormat, options: {colour?: boolean} = {}): string {
  switch (format) {
    case 'table':
      return renderTerminal(report, options)
    case 'json':
      return JSON.stringify(report, null, 2)
    case 'markdown':
      return renderMarkdown(report)
    case 'html':
      return renderHtml(report)
  }
}
